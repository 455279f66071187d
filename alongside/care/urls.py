from django.urls import path

from alongside.care import views

app_name = "care"

urlpatterns = [
    path("me/sharing/", views.sharing, name="sharing"),
    path("me/sharing/<int:relationship_pk>/", views.update_sharing, name="update_sharing"),
    path("me/access/", views.access_log, name="access_log"),
    path("team/members/<int:member_pk>/", views.member_record, name="member_record"),
    path("org/<slug:slug>/members/", views.org_members, name="org_members"),
    path("org/<slug:slug>/members/end/<int:relationship_pk>/", views.end_supporter, name="end_supporter"),
]
