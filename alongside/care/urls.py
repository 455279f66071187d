from django.urls import path

from alongside.care import network_views, notes_views, org_views, outreach_views, resource_views, views

app_name = "care"

urlpatterns = [
    path("me/sharing/", views.sharing, name="sharing"),
    path("me/sharing/<int:relationship_pk>/", views.update_sharing, name="update_sharing"),
    path("me/access/", views.access_log, name="access_log"),
    path("me/team/", network_views.network, name="network"),
    path("team/members/<int:member_pk>/transition/", network_views.record_transition, name="record_transition"),
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
    # The educational resources library, a member's own resources, and the care team's changes to them.
    path("org/<slug:slug>/resources/", resource_views.library, name="resource_library"),
    path("org/<slug:slug>/resources/new/", resource_views.new_resource, name="resource_new"),
    path("org/<slug:slug>/resources/<int:resource_pk>/edit/", resource_views.edit_resource, name="resource_edit"),
    path(
        "org/<slug:slug>/resources/<int:resource_pk>/archive/",
        resource_views.archive_resource,
        name="resource_archive",
    ),
    path("me/resources/", resource_views.my_resources, name="my_resources"),
    path("me/resources/<int:assignment_pk>/", resource_views.my_resource, name="my_resource"),
    path("me/resources/<int:assignment_pk>/read/", resource_views.mark_read, name="resource_mark_read"),
    path("team/members/<int:member_pk>/resources/assign/", resource_views.assign, name="resource_assign"),
    path(
        "team/members/<int:member_pk>/resources/<int:assignment_pk>/unassign/",
        resource_views.unassign,
        name="resource_unassign",
    ),
    path("team/members/<int:member_pk>/outreach/", outreach_views.member_outreach, name="member_outreach"),
    path("team/members/<int:member_pk>/notes/", notes_views.member_notes, name="member_notes"),
    path("team/outreach/", outreach_views.my_outreach_tasks, name="my_outreach"),
]
