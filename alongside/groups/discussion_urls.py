"""Routes of the discussion spaces, threads, reports, moderation and the community profile."""

from django.urls import path

from alongside.groups import discussion_views as views

urlpatterns = [
    path("groups/<int:pk>/discussion/", views.threads, name="threads"),
    path("groups/<int:pk>/discussion/new/", views.new_group_thread, name="new_group_thread"),
    path("community/", views.community, name="community"),
    path("community/new/", views.new_community_thread, name="new_community_thread"),
    path("community/profile/", views.community_profile, name="community_profile"),
    path("groups/threads/<int:pk>/", views.thread, name="thread"),
    path("groups/threads/<int:pk>/lock/", views.lock_thread, name="lock_thread"),
    path("groups/threads/<int:pk>/unlock/", views.unlock_thread, name="unlock_thread"),
    path("groups/posts/<int:pk>/react/", views.react, name="react"),
    path("groups/posts/<int:pk>/report/", views.report_post, name="report_post"),
    path("groups/posts/<int:pk>/hide/", views.hide_post, name="hide_post"),
    path("groups/posts/<int:pk>/restore/", views.restore_post, name="restore_post"),
    path("groups/posts/<int:pk>/keep/", views.keep_post, name="keep_post"),
    path("moderation/", views.moderation_queue, name="moderation"),
]
