from alongside.goals import goal_views, growth_views, review_views

app_name = "goals"

urlpatterns = [*goal_views.urlpatterns, *growth_views.urlpatterns, *review_views.urlpatterns]
