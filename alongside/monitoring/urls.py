from django.urls import path

from alongside.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("me/checkin/", views.checkin, name="checkin"),
    path("me/history/", views.history, name="history"),
    path("me/questionnaires/", views.questionnaires, name="questionnaires"),
    path("me/questionnaires/results/<int:response_pk>/", views.questionnaire_result, name="questionnaire_result"),
    path("me/questionnaires/<slug:code>/", views.answer_questionnaire, name="answer_questionnaire"),
]
