from django.urls import path

from alongside.programs import views

app_name = "programs"

urlpatterns = [
    path("org/<slug:slug>/programs/", views.program_list, name="list"),
    path("org/<slug:slug>/programs/<int:program_pk>/", views.program_edit, name="edit"),
    path("org/<slug:slug>/programs/<int:program_pk>/archive/", views.program_archive, name="archive"),
    path("org/<slug:slug>/programs/<int:program_pk>/delete/", views.program_delete, name="delete"),
]
