from django.dispatch import receiver

from alongside.accounts.signals import invitation_accepted
from alongside.care import actions


@receiver(invitation_accepted, dispatch_uid="care_inviter_supports_new_member")
def inviter_supports_new_member(sender, invitation, user, request=None, **kwargs):
    """A member invited by their clinician or case manager starts with that person on their care team."""
    if invitation.support_as and invitation.invited_by.is_active:
        actions.add_supporter(
            by=invitation.invited_by,
            organisation=invitation.organisation,
            member=user,
            staff=invitation.invited_by,
            role=invitation.support_as,
            request=request,
        )
