from django.dispatch import Signal

# Sent after someone accepts an invitation, with `invitation`, `user` and `request`. Apps above accounts
# react to it (care: the inviting clinician starts supporting the new member).
invitation_accepted = Signal()
