from alongside.interop import rights_views

app_name = "interop"

# Each part (FHIR export, imports, data rights) adds its own patterns.
urlpatterns: list = [*rights_views.urlpatterns]
