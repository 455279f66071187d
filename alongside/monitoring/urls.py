from django.urls import path

from alongside.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("me/checkin/", views.checkin, name="checkin"),
    path("me/history/", views.history, name="history"),
    path("me/history/charts/<slug:slot>/", views.history_chart, name="history_chart"),
    path("me/journal/", views.journal_list, name="journal"),
    path("me/journal/new/", views.journal_write, name="journal_new"),
    path("me/journal/<int:entry_pk>/", views.journal_write, name="journal_edit"),
    path("me/journal/<int:entry_pk>/delete/", views.journal_delete, name="journal_delete"),
    path("me/questionnaires/", views.questionnaires, name="questionnaires"),
    path(
        "org/<slug:slug>/programs/<int:program_pk>/questionnaires/",
        views.program_instruments_page,
        name="program_instruments",
    ),
    path("me/questionnaires/results/<int:response_pk>/", views.questionnaire_result, name="questionnaire_result"),
    path("me/questionnaires/<slug:code>/", views.answer_questionnaire, name="answer_questionnaire"),
]
