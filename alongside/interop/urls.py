from alongside.interop import fhir_views, rights_views

app_name = "interop"

# Each part (FHIR export, imports, data rights) adds its own patterns.
urlpatterns: list = [*fhir_views.urlpatterns, *rights_views.urlpatterns]
