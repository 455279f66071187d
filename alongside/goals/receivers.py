"""Achieving a goal or a milestone is celebrated with the member (once; in the app)."""

from django.dispatch import receiver

from alongside.goals import celebrations
from alongside.goals.goals import goal_achieved, milestone_achieved
from alongside.goals.models import Goal, Milestone


@receiver(goal_achieved, sender=Goal, dispatch_uid="goals_celebrate_goal")
def goal_celebrated(sender, goal, **kwargs):
    celebrations.celebrate_goal(goal)


@receiver(milestone_achieved, sender=Milestone, dispatch_uid="goals_celebrate_milestone")
def milestone_celebrated(sender, milestone, **kwargs):
    celebrations.celebrate_milestone(milestone)
