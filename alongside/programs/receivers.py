from django.dispatch import receiver

from alongside.accounts.signals import invitation_accepted
from alongside.programs import actions
from alongside.programs.models import ProgramInvitation


@receiver(invitation_accepted, dispatch_uid="programs_enrol_invited_member")
def enrol_invited_member(sender, invitation, user, request=None, **kwargs):
    """A member invited into a program is enrolled in its first phase when they accept."""
    link = ProgramInvitation.objects.filter(invitation=invitation).select_related("program").first()
    if link and link.program.archived_at is None and invitation.invited_by:
        actions.enrol(by=invitation.invited_by, program=link.program, member=user, request=request)
