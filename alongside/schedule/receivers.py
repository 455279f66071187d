from django.dispatch import receiver

from alongside.accounts.signals import time_zone_changed
from alongside.schedule import series


@receiver(time_zone_changed, dispatch_uid="schedule_follow_member_to_new_zone")
def follow_member_to_new_zone(sender, person, old, new, **kwargs):
    """A member who moves sees their future appointments at the same local time."""
    series.follow_member_to_zone(person, old, new)
