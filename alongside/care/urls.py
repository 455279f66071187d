from django.urls import path

from alongside.care import org_views, views

app_name = "care"

urlpatterns = [
    path("me/sharing/", views.sharing, name="sharing"),
    path("me/sharing/<int:relationship_pk>/", views.update_sharing, name="update_sharing"),
    path("me/access/", views.access_log, name="access_log"),
    path("org/<slug:slug>/members/", views.org_members, name="org_members"),
    path("org/<slug:slug>/members/end/<int:relationship_pk>/", views.end_supporter, name="end_supporter"),
    path("org/<slug:slug>/members/<int:member_pk>/", org_views.member_roster_entry, name="roster_entry"),
    path("org/<slug:slug>/staff/", org_views.staff_list, name="staff_list"),
    path("org/<slug:slug>/staff/<int:person_pk>/", org_views.staff_manage, name="staff_manage"),
    path("org/<slug:slug>/invite/", org_views.invite_people, name="invite"),
    path(
        "org/<slug:slug>/invite/<int:invitation_pk>/withdraw/",
        org_views.withdraw_invitation,
        name="withdraw_invitation",
    ),
]
