"""Peer-mentor matching pages."""

from django.urls import path

from alongside.groups import mentoring_views

urlpatterns = [
    path("team/mentor-profile/", mentoring_views.mentor_profile, name="mentor_profile"),
    path("me/peer-mentor/", mentoring_views.ask_for_mentor, name="ask_for_mentor"),
    path("me/peer-mentor/<int:pk>/withdraw/", mentoring_views.withdraw_mentor_request, name="withdraw_mentor_request"),
    path("team/mentor-requests/", mentoring_views.mentor_requests, name="mentor_requests"),
    path("team/mentor-requests/<int:pk>/", mentoring_views.mentor_request, name="mentor_request"),
    path("team/mentor-requests/<int:pk>/approve/", mentoring_views.approve_mentor_match, name="approve_mentor_match"),
]
