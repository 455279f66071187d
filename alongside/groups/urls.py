from alongside.groups import discussion_urls, meeting_urls, mentoring_urls, views

app_name = "groups"

urlpatterns = [
    *views.urlpatterns,
    *meeting_urls.urlpatterns,
    *discussion_urls.urlpatterns,
    *mentoring_urls.urlpatterns,
]
