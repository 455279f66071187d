from django.urls import path

from alongside.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.member_home, name="member_home"),
    path("team/", views.staff_home, name="staff_home"),
    path("team/caseload/", views.caseload_view, name="caseload"),
    path("org/<slug:slug>/outcomes/", views.program_outcomes, name="outcomes"),
    path("crisis/", views.crisis, name="crisis"),
    path("me/struggling/", views.struggling, name="struggling"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("team/members/<int:member_pk>/", views.member_record, name="member_record"),
    path("team/members/<int:member_pk>/charts/", views.member_charts, name="member_charts"),
    path("team/members/<int:member_pk>/charts/<slug:slot>/", views.member_chart, name="member_chart"),
]
