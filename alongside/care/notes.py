"""Clinical notes: what a member's clinicians and case managers write about them (a session, a phone contact, a
risk review), encrypted at rest, kept per organisation, never edited (a correction is a new note naming the one
it corrects). Who keeps and reads them is decided in `policy.note_organisations`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import ClinicalNote, NoteKind

MAX_LENGTH = 10_000
# A note may say a call happened a few minutes from now by the writer's clock, not tomorrow.
FUTURE_TOLERANCE = timedelta(minutes=5)


def notes_for(person, member) -> QuerySet[ClinicalNote]:
    """The member's notes the person may read (newest first); none for anyone but their clinicians and case
    managers, and only of their organisations."""
    return (
        ClinicalNote.objects.filter(member=member, organisation__in=policy.note_organisations(person, member))
        .select_related("author", "corrects", "organisation")
        .order_by("-occurred_at", "-pk")
    )


def member_or_404(person, member_pk):
    """The member whose notes the person keeps, or 404 for anyone else (existence does not leak)."""
    member = policy.visible_member_or_404(person, member_pk)
    if not policy.note_organisations(person, member).exists():
        raise Http404
    return member


def record_read(request, member, found: list[ClinicalNote], *, via: str = "") -> None:
    """Write a read of these notes (perhaps none) to the audit log: one entry per organisation they belong to."""
    organisations = {note.organisation for note in found} or set(policy.note_organisations(request.user, member)[:1])
    detail = f"{len(found)} clinical notes{via}"
    policy.record_reads(request, member, [(policy.NOTES, detail, organisation) for organisation in organisations])


def write_note(
    *,
    by,
    member,
    kind: str,
    text: str,
    occurred_at: datetime | None = None,
    corrects: ClinicalNote | int | None = None,
    organisation=None,
    request=None,
) -> ClinicalNote:
    """A clinician or case manager of the member writes a note (audited). Raises PermissionDenied for anyone
    else, and ValidationError naming the fields for bad input (nothing is written then)."""
    organisations = list(policy.note_organisations(by, member))
    if not organisations:
        raise PermissionDenied
    errors: dict[str, str] = {}
    if kind not in NoteKind.values:
        errors["kind"] = _("Choose what kind of note this is.")
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Write the note.")
    elif len(text) > MAX_LENGTH:
        errors["text"] = _("A note can be at most %(n)s characters.") % {"n": f"{MAX_LENGTH:,}"}
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        errors["occurred_at"] = _("Give the time with its time zone.")
    elif occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = _("A note is about something that has happened: the time cannot be in the future.")
    earlier = None
    if corrects is not None:
        earlier_pk = corrects.pk if isinstance(corrects, ClinicalNote) else corrects
        earlier = notes_for(by, member).filter(pk=earlier_pk).first()
        if earlier is None:
            errors["corrects"] = _("The note to correct was not found among this member's notes.")
    if organisation is None:
        organisation = earlier.organisation if earlier is not None else organisations[0]
    elif organisation not in organisations:
        errors["organisation"] = _("You keep no notes on this member in that organisation.")
    if earlier is not None and earlier.organisation_id != organisation.pk:
        errors["corrects"] = _("A correction belongs to the same organisation as the note it corrects.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        note = ClinicalNote.objects.create(
            organisation=organisation,
            member=member,
            author=by,
            kind=kind,
            text=text,
            occurred_at=occurred_at,
            written_at=now,
            corrects=earlier,
        )
        roles, _related = policy.relation_to(by, member)
        record(
            AuditAction.CHANGE,
            actor=by,
            request=request,
            member=member,
            organisation=organisation,
            category=policy.NOTES,
            detail=f"wrote a {kind} note" + (f" correcting note {earlier.pk}" if earlier else ""),
            actor_roles=roles,
        )
    return note
