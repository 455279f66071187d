"""Meeting pages (`groups/meeting_views.py`)."""

from django.urls import path

from alongside.groups import meeting_views as views

urlpatterns = [
    path("groups/<int:pk>/meetings/", views.meeting_list, name="meetings"),
    path("groups/<int:pk>/meetings/new/", views.new_meetings, name="new_meetings"),
    path("groups/meetings/<int:pk>/", views.meeting_page, name="meeting"),
    path("groups/meetings/<int:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("groups/meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("groups/meetings/<int:pk>/notes/", views.meeting_notes, name="meeting_notes"),
    path("groups/meetings/<int:pk>/cancel/", views.cancel_meeting, name="cancel_meeting"),
    path("groups/meeting-series/<int:pk>/end/", views.end_meeting_series, name="end_meeting_series"),
]
