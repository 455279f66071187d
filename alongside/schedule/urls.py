from django.urls import path

from alongside.schedule import feed_views, routine_views, views

app_name = "schedule"

urlpatterns = [
    # Appointments
    path("me/schedule/", views.my_schedule, name="mine"),
    path("me/appointments/new/", views.new_appointment, name="new_mine"),
    path("team/schedule/", views.staff_schedule, name="staff"),
    path("team/members/<int:member_pk>/appointments/new/", views.new_appointment, name="new_for_member"),
    path("appointments/<int:pk>/", views.occurrence_page, name="occurrence"),
    path("appointments/<int:pk>/confirm/", views.confirm_occurrence, name="confirm"),
    path("appointments/<int:pk>/cancel/", views.cancel_occurrence, name="cancel"),
    path("appointments/<int:pk>/reschedule/", views.request_reschedule, name="request_reschedule"),
    path("appointments/<int:pk>/move/", views.move_occurrence, name="move"),
    path("appointments/<int:pk>/attendance/", views.record_attendance, name="attendance"),
    path("appointments/<int:pk>/agenda/<slug:key>/", views.tick_agenda_item, name="tick"),
    # The member's daily routine
    path("me/routine/", routine_views.routine, name="routine"),
    path("me/routine/items/new/", routine_views.new_item, name="routine_new"),
    path("me/routine/items/<int:pk>/edit/", routine_views.edit_item, name="routine_edit"),
    path("me/routine/items/<int:pk>/archive/", routine_views.archive_item, name="routine_archive"),
    path("me/routine/items/<int:pk>/check/", routine_views.check, name="routine_check"),
    path("me/routine/items/<int:pk>/uncheck/", routine_views.uncheck, name="routine_uncheck"),
    path("me/routine/from-plan/", routine_views.from_plan, name="routine_from_plan"),
    # Calendar feeds: the secret feed URL needs no sign-in (the token is the key); the rest are the person's own.
    path("calendar/<str:token>.ics", feed_views.feed, name="feed"),
    path("me/calendar/", feed_views.calendar_settings, name="calendar_settings"),
    path("me/calendar/new-link/", feed_views.calendar_new_link, name="calendar_new_link"),
    path("me/calendar/revoke/", feed_views.calendar_revoke, name="calendar_revoke"),
    path("me/appointments/<int:occurrence_pk>.ics", feed_views.occurrence_ics, name="occurrence_ics"),
]
