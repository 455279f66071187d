from django.dispatch import receiver

from alongside.care.plan import plan_saved
from alongside.monitoring import checkins


@receiver(plan_saved, dispatch_uid="monitoring_plan_warning_signs_are_tags")
def plan_warning_signs_are_tags(sender, member, content, **kwargs):
    """The plan's early warning signs are the member's warning-sign check-in tags; signs taken out of the plan
    are archived, so past check-ins keep them."""
    checkins.use_warning_signs(member, [pair["item"] for pair in content["early_warning_signs"]])
