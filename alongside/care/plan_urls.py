from django.urls import path

from alongside.care import plan_views

app_name = "plan"

# The same pages for the member (/me/plan/) and for their care team (/team/members/<id>/plan/).
urlpatterns = [
    path("me/plan/", plan_views.plan_page, name="mine"),
    path("me/plan/edit/", plan_views.edit_plan, name="edit_mine"),
    path("me/plan/history/", plan_views.plan_history, name="history_mine"),
    path("me/plan/versions/<int:number>/", plan_views.plan_version, name="version_mine"),
    path("me/plan/changes/", plan_views.plan_diff, name="diff_mine"),
    path("me/plan/agree/", plan_views.sign_plan, name="sign_mine"),
    path("me/plan/review/", plan_views.set_review, name="review_mine"),
    path("me/plan/print/", plan_views.print_plan, name="print_mine"),
    path("me/plan/card/", plan_views.wallet_card, name="card_mine"),
    path("team/members/<int:member_pk>/plan/", plan_views.plan_page, name="view"),
    path("team/members/<int:member_pk>/plan/edit/", plan_views.edit_plan, name="edit"),
    path("team/members/<int:member_pk>/plan/history/", plan_views.plan_history, name="history"),
    path("team/members/<int:member_pk>/plan/versions/<int:number>/", plan_views.plan_version, name="version"),
    path("team/members/<int:member_pk>/plan/changes/", plan_views.plan_diff, name="diff"),
    path("team/members/<int:member_pk>/plan/agree/", plan_views.sign_plan, name="sign"),
    path("team/members/<int:member_pk>/plan/review/", plan_views.set_review, name="review"),
    path("team/members/<int:member_pk>/plan/print/", plan_views.print_plan, name="print"),
    path("team/members/<int:member_pk>/plan/card/", plan_views.wallet_card, name="card"),
]
