from alongside.interop import fhir_views, import_views, rights_views

app_name = "interop"

# Each part (FHIR export, imports, data rights) adds its own patterns.
urlpatterns: list = [*fhir_views.urlpatterns, *import_views.urlpatterns, *rights_views.urlpatterns]
