from django.dispatch import Signal

# Sent after someone accepts an invitation, with `invitation`, `user` and `request`. Apps above accounts
# react to it (care: the inviting clinician starts supporting the new member).
invitation_accepted = Signal()

# Sent after a person's time zone changed, with `person`, `old` and `new` (zone names). The schedule keeps
# their future appointments at the same local time.
time_zone_changed = Signal()
