from alongside.interop import import_views

app_name = "interop"

# Each part (FHIR export, imports, data rights) adds its own patterns.
urlpatterns: list = [*import_views.urlpatterns]
