"""The private journal: writing, sharing single entries, and searching one's own entries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.care import crisis_language, policy
from alongside.care.models import CareRelationship, Category, SafetyKind
from alongside.care.safety import record_safety_event
from alongside.core.ids import storable
from alongside.monitoring.models import JournalEntry

MAX_LENGTH = 20_000
PROMPTS = (
    gettext_lazy("What helped today?"),
    gettext_lazy("What is on my mind right now?"),
    gettext_lazy("What am I grateful for?"),
    gettext_lazy("What would I tell a friend in my place?"),
    gettext_lazy("What do I want to remember about today?"),
)


def shareable_relationships(member):
    """The member's supporters; those the member shares their journal with can be given single entries."""
    return CareRelationship.objects.care_team_of(member)


def _resolve_sharing(member, relationship_ids: Iterable[int], errors: dict) -> list[CareRelationship]:
    ids = {int(pk) for pk in relationship_ids}
    if not ids:
        return []
    team = {
        relationship.pk: relationship for relationship in shareable_relationships(member).filter(pk__in=storable(ids))
    }
    unknown = ids - set(team)
    if unknown:
        errors["shared_with"] = _("You can only share with people who support you now.")
        return []
    not_consented = [r for r in team.values() if Category.JOURNAL not in r.shared_categories]
    if not_consented:
        names = ", ".join(r.staff.display_name for r in not_consented)
        errors["shared_with"] = _(
            "Share your journal with %(names)s on “Who sees what” first, then choose this entry for them."
        ) % {"names": names}
    return list(team.values())


def _clean(text: str, prompt: str, errors: dict) -> tuple[str, str]:
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Write something first.")
    elif len(text) > MAX_LENGTH:
        errors["text"] = _("An entry can be up to %(n)s characters; split it into two.") % {"n": MAX_LENGTH}
    prompt = (prompt or "").strip()
    if len(prompt) > 200:
        errors["prompt"] = _("The prompt is too long.")
    return text, prompt


@transaction.atomic
def write(
    member,
    *,
    text: str,
    prompt: str = "",
    shared_with: Iterable[int] = (),
    written_at: datetime | None = None,
    source: str = "web",
) -> JournalEntry:
    errors: dict[str, str] = {}
    text, prompt = _clean(text, prompt, errors)
    sharing = _resolve_sharing(member, shared_with, errors)
    now = timezone.now()
    written_at = written_at or now
    if timezone.is_naive(written_at) or written_at > now + timedelta(minutes=5):
        errors["written_at"] = _("Give a time that is not in the future, with its time zone.")
    if errors:
        raise ValidationError(errors)
    entry = JournalEntry.objects.create(
        member=member,
        written_at=written_at,
        local_date=written_at.astimezone(ZoneInfo(member.time_zone)).date(),
        prompt=prompt,
        text=text,
        source=source,
    )
    entry.shared_with.set(sharing)
    _check_for_crisis(member, entry)
    return entry


def _check_for_crisis(member, entry: JournalEntry) -> None:
    """Words of crisis: a safety event (the member is shown their crisis screen; supporters hear of it only if
    the member shares their journal with them and chose them for safety alerts). `entry.crisis` says so."""
    entry.crisis = crisis_language.found_in(entry.text)
    if entry.crisis:
        source = f"journal entry {entry.pk}"
        if entry.written_at < timezone.now() - timedelta(days=1):
            # An entry from the past (an imported diary) is still routed: the team decides what an old line means,
            # and needs its date to.
            source += f", written {entry.local_date.isoformat()}"
        record_safety_event(member, SafetyKind.CRISIS_LANGUAGE, source=source)


@transaction.atomic
def edit(member, entry: JournalEntry, *, text: str, prompt: str = "", shared_with: Iterable[int] = ()) -> JournalEntry:
    if entry.member_id != member.pk:
        raise PermissionDenied
    errors: dict[str, str] = {}
    text, prompt = _clean(text, prompt, errors)
    sharing = _resolve_sharing(member, shared_with, errors)
    if errors:
        raise ValidationError(errors)
    changed = entry.text != text
    entry.text, entry.prompt = text, prompt
    entry.save(update_fields=["text", "prompt", "updated_at"])
    entry.shared_with.set(sharing)
    entry.crisis = False
    if changed:
        _check_for_crisis(member, entry)
    return entry


def delete(member, entry: JournalEntry) -> None:
    if entry.member_id != member.pk:
        raise PermissionDenied
    entry.delete()


def search(member, query: str, limit: int = 200) -> list[JournalEntry]:
    """The member's own entries containing `query`. Entries are encrypted, so the database cannot search
    them; they are decrypted here, for their owner only."""
    words = query.casefold().split()
    entries = JournalEntry.objects.filter(member=member)
    if not words:
        return list(entries[:limit])
    found = []
    for entry in entries.iterator(chunk_size=500):
        haystack = f"{entry.prompt}\n{entry.text}".casefold()
        if all(word in haystack for word in words):
            found.append(entry)
            if len(found) >= limit:
                break
    return found


def shared_with_person(person, member):
    """Entries the member chose for this supporter, while the member shares their journal with them."""
    relationships = policy.live_relationships(person).filter(member=member, consent_grants__category=Category.JOURNAL)
    return JournalEntry.objects.filter(member=member, shared_with__in=relationships).distinct()
