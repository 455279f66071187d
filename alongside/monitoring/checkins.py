"""Recording check-ins: the one write path for the web form, the API, offline sync and imports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.core import sql
from alongside.core.idempotency import MAX_KEY_LENGTH, Receipt, seal
from alongside.core.models import IdempotencyRecord
from alongside.monitoring import events, intake
from alongside.monitoring.models import DEFAULT_ACTIVITIES, CheckIn, Medication, Tag, TagKind
from alongside.programs.models import Enrolment
from alongside.programs.settings_schema import CHECKIN_FIELDS

SCALE_FIELDS = ("mood", "anxiety", "energy", "sleep_quality", "cravings")
# Phones' clocks drift; a check-in may be stamped a little ahead of the server, not more.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_NOTE_LENGTH = 2000


def fields_for(member) -> list[str]:
    """The check-in fields the member's programs ask about (all of them outside any program)."""
    chosen: set[str] = set()
    enrolments = Enrolment.objects.current().filter(member=member, program__archived_at__isnull=True)
    for enrolment in enrolments.select_related("program"):
        chosen |= set(enrolment.program.settings.get("checkin_fields", CHECKIN_FIELDS))
    if not chosen:
        chosen = set(CHECKIN_FIELDS)
    return [name for name in CHECKIN_FIELDS if name in chosen]


def tags_for(member, kind: TagKind | str):
    """The member's tags of one kind; new members start with a set of common activities."""
    kind = TagKind(kind)
    if kind == TagKind.ACTIVITY and not Tag.objects.filter(member=member, kind=kind).exists():
        Tag.objects.bulk_create(
            [Tag(member=member, kind=kind, label=label) for label in DEFAULT_ACTIVITIES], ignore_conflicts=True
        )
    return Tag.objects.filter(member=member, kind=kind, archived=False)


def add_tag(member, kind: TagKind | str, label: str) -> Tag:
    label = " ".join(label.split())
    if not label or len(label) > 60:
        raise ValidationError({"label": _("A tag needs 1 to 60 characters.")})
    tag = Tag.objects.filter(member=member, kind=kind, label__iexact=label).first()
    if tag:
        if tag.archived:
            tag.archived = False
            tag.save(update_fields=["archived"])
        return tag
    return Tag.objects.create(member=member, kind=kind, label=label)


def use_warning_signs(member, signs: Iterable[str]) -> list[Tag]:
    """Make these the member's warning-sign tags (from their plan): new ones added, missing ones archived."""
    kept = [add_tag(member, TagKind.WARNING_SIGN, sign) for sign in signs]
    Tag.objects.filter(member=member, kind=TagKind.WARNING_SIGN, archived=False).exclude(
        pk__in=[tag.pk for tag in kept]
    ).update(archived=True)
    return kept


def _resolve_tags(member, kind: TagKind, labels: Iterable[str], errors: dict) -> list[Tag]:
    labels = _labels(labels)
    if not labels:
        return []  # most check-ins carry no tags of a kind: no need to ask the database
    wanted = sorted({label.lower() for label in labels})
    # Only the tags named are read (labels compared without case), not the member's whole list; the statement
    # is written out because this runs for most check-ins (core/sql.py says why).
    quote = connection.ops.quote_name
    matching = sql.fetch(
        # Only names from the model are formatted in; member, kind and labels are parameters.
        f"SELECT {sql.columns(Tag, 't')} FROM {quote(Tag._meta.db_table)} t WHERE t.{quote('member_id')} = %s "  # noqa: S608
        f"AND t.{quote('kind')} = %s AND NOT t.{quote('archived')} "
        f"AND LOWER(t.{quote('label')}) IN ({', '.join(['%s'] * len(wanted))})",
        [member.pk, kind.value, *wanted],
    )
    known = {tag.label.lower(): tag for tag in (sql.load(Tag, row) for row in matching)}
    if not known and kind == TagKind.ACTIVITY:
        # First use: a new member starts with the common activities. Read them again whoever made them: two
        # first check-ins sent together (a phone's queue) may each find none, and one makes them meanwhile.
        known = {tag.label.lower(): tag for tag in tags_for(member, kind)}
    unknown = [label for label in labels if label.lower() not in known]
    if unknown:
        errors["activities" if kind == TagKind.ACTIVITY else "warning_signs"] = _(
            "Unknown tags: %(labels)s. Add them to your list first."
        ) % {"labels": ", ".join(unknown)}
    return [known[label.lower()] for label in labels if label.lower() in known]


def record(member, **values) -> CheckIn:
    """Validate a check-in and store it with its tags (or nothing): `store(prepare(...))`."""
    return store(prepare(member, **values))


# What a key used by the check-in form stores as its answer: nothing replays it (see `record_from_form`).
_FORM_ANSWER = (303, {"form": "checkin"})


def record_from_form(member, *, key: str = "", **values) -> CheckIn | None:
    """A check-in from the web form, which the page gives a fresh key each time it shows it: a form sent twice
    (a double tap, a resend after an answer lost on the way) stores one check-in, and the second time this
    returns None. The same key with other answers is a form used again after going back: another check-in.
    A copy the device kept of a post that did reach the server, sent later to the API with the same key, is
    refused there (409: the key was used for another request) and is not stored twice either."""
    checkin = prepare(member, **values)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return store(checkin)
    receipt = Receipt(member.pk, key, _form_fingerprint(values))
    try:
        return store(checkin, receipt=receipt, answer=lambda _checkin: _FORM_ANSWER)
    except IntegrityError:
        earlier = IdempotencyRecord.objects.filter(user=member, key=key).first()
        if earlier is None:
            raise
    if earlier.fingerprint == receipt.fingerprint:
        return None
    # Prepared afresh: inside a caller's transaction the insert that was rolled back gave the first one an id.
    return store(prepare(member, **values))


def _form_fingerprint(values: dict) -> str:
    answers = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(f"check-in form\0{answers}".encode()).hexdigest()


def prepare(
    member,
    *,
    mood,
    anxiety=None,
    energy=None,
    sleep_hours=None,
    sleep_quality=None,
    medication: str = "",
    cravings=None,
    note: str = "",
    activities: Iterable[str] = (),
    warning_signs: Iterable[str] = (),
    recorded_at: datetime | None = None,
    source: str = "web",
    announce: bool = True,
    find_tags: bool = True,
) -> CheckIn:
    """A validated check-in, not yet stored, with its tags in `tag_list`; ValidationError names each bad field.
    Only reads (the tags named), so a caller can do it before taking a write lock. With `announce` False the
    worker does not announce it: the caller accounts for it (an import rebuilds the engine's state at its end).
    With `find_tags` False the tags are not read (unless another field is refused: then every problem is named
    at once): `tag_list` holds them as named (unsaved) and `store` finds them, for an API create in the
    statement that stores the check-in (`intake`), raising ValidationError for a label that names none of the
    member's tags."""
    errors: dict[str, str] = {}
    values = {"mood": mood, "anxiety": anxiety, "energy": energy, "sleep_quality": sleep_quality, "cravings": cravings}
    for field in SCALE_FIELDS:
        value = values[field]
        if value is None and field != "mood":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            errors[field] = _("Choose a whole number from 0 to 10.")
    if sleep_hours is not None:
        try:
            sleep_hours = Decimal(str(sleep_hours)).quantize(Decimal("0.01"))
            if not Decimal(0) <= sleep_hours <= Decimal(24):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["sleep_hours"] = _("Hours of sleep must be between 0 and 24.")
    medication = medication or ""
    if medication and medication not in Medication.values:
        errors["medication"] = _("Choose taken, not taken or not applicable.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        errors["note"] = _("Keep the note under %(n)s characters; the journal has room for more.") % {
            "n": MAX_NOTE_LENGTH
        }
    now = timezone.now()
    recorded_at = recorded_at or now
    if timezone.is_naive(recorded_at):
        errors["recorded_at"] = _("Give the time with its time zone or UTC offset.")
    elif recorded_at > now + FUTURE_TOLERANCE:
        errors["recorded_at"] = _("That time is in the future.")
    if find_tags or errors:  # a refused check-in names every problem at once, its unknown tags too
        tags = _find_tags(member, activities, warning_signs, errors)
    else:
        tags = _named(member, TagKind.ACTIVITY, activities) + _named(member, TagKind.WARNING_SIGN, warning_signs)
    if errors:
        raise ValidationError(errors)
    checkin = CheckIn(
        member=member,
        recorded_at=recorded_at,
        local_date=recorded_at.astimezone(ZoneInfo(member.time_zone)).date(),
        mood=mood,
        anxiety=anxiety,
        energy=energy,
        sleep_hours=sleep_hours,
        sleep_quality=sleep_quality,
        medication=medication,
        cravings=cravings,
        note=note,
        source=source,
        unannounced=announce,  # the worker tells the early-warning engine (`announce_waiting`)
    )
    checkin.tag_list = tags
    return checkin


def _labels(labels: Iterable[str]) -> list[str]:
    return [str(label).strip() for label in labels if str(label).strip()]


def _find_tags(member, activities: Iterable[str], warning_signs: Iterable[str], errors: dict) -> list[Tag]:
    """The member's current tags with these labels; a message in `errors` for each kind with unknown ones."""
    tags = _resolve_tags(member, TagKind.ACTIVITY, activities, errors)
    return tags + _resolve_tags(member, TagKind.WARNING_SIGN, warning_signs, errors)


def _named(member, kind: TagKind, labels: Iterable[str]) -> list[Tag]:
    """Tags as a check-in names them, not yet looked up (no ids)."""
    return [Tag(member=member, kind=kind, label=label) for label in _labels(labels)]


def _only_named(checkin: CheckIn) -> bool:
    """Whether the check-in's tags are as `prepare(find_tags=False)` left them: named, not looked up."""
    return any(tag.pk is None for tag in checkin.tag_list)


def _find_named_tags(checkin: CheckIn) -> None:
    """Look up the tags a check-in from `prepare(find_tags=False)` names, as `prepare` would have."""
    errors: dict[str, str] = {}
    named = checkin.tag_list
    tags = _find_tags(
        checkin.member,
        [tag.label for tag in named if tag.kind == TagKind.ACTIVITY],
        [tag.label for tag in named if tag.kind == TagKind.WARNING_SIGN],
        errors,
    )
    if errors:
        raise ValidationError(errors)
    checkin.tag_list = tags


def store(
    checkin: CheckIn,
    *,
    receipt: Receipt | None = None,
    answer: Callable[[CheckIn], tuple[int, dict]] | None = None,
) -> CheckIn:
    """Store a check-in from `prepare` with its tag links and, for an API create, its Idempotency-Key's answer
    (`receipt`, and `answer`: the status and the body for the check-in, whose "id" is set to the new check-in's):
    all or nothing. A key used before raises IntegrityError and stores nothing (inside a caller's transaction,
    a savepoint keeps that failure from spoiling the rest). Otherwise everything was validated before (but the
    tags named, if `prepare` left them: ValidationError), so inside a caller's transaction the inserts join it
    without a savepoint of their own."""
    if receipt is not None and not connection.in_atomic_block:
        if _only_named(checkin):
            # Usually each label is a tag's as the member's list spells it, and one statement does it all.
            if _store_in_one_statement(checkin, receipt, answer, by_label=True):
                return checkin
            _find_named_tags(checkin)
        _store_in_one_statement(checkin, receipt, answer, by_label=False)
        return checkin
    if _only_named(checkin):
        _find_named_tags(checkin)
    tag_ids = list(dict.fromkeys(tag.pk for tag in checkin.tag_list))
    with transaction.atomic(savepoint=receipt is not None):
        sql.insert(checkin)
        # The check-in is new, so its tag links are plain inserts with nothing to compare against.
        for tag_pk in tag_ids:
            sql.insert(CheckIn.tags.through(checkin_id=checkin.pk, tag_id=tag_pk))
        if receipt is not None:
            status, body = answer(checkin)
            sql.insert(receipt.answer(status, {**body, "id": checkin.pk}))
    return checkin


def _store_in_one_statement(checkin: CheckIn, receipt: Receipt, answer, *, by_label: bool) -> bool:
    """The check-in, its links and the answer in one autocommitted statement (`intake` says why and how): the
    tags by their labels as named (False when a label found no tag, and nothing was stored), or by their ids."""
    status, body = answer(checkin)
    # The answer is sealed without the id, which the statement stores beside it (`created_id`).
    answer_values = [receipt.user_id, receipt.key, receipt.fingerprint, status, json.dumps(seal({**body, "id": None}))]
    labels: dict[str, list[str]] = {TagKind.ACTIVITY: [], TagKind.WARNING_SIGN: []}
    tag_ids = []
    if by_label:
        for tag in checkin.tag_list:
            labels[tag.kind].append(tag.label)
        labels = {kind: list(dict.fromkeys(named)) for kind, named in labels.items()}
    else:
        tag_ids = list(dict.fromkeys(tag.pk for tag in checkin.tag_list))
    activities, warning_signs = labels[TagKind.ACTIVITY], labels[TagKind.WARNING_SIGN]
    named = len(activities) + len(warning_signs)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                intake.postgresql_sql(CheckIn, IdempotencyRecord),
                [
                    checkin.member_id,
                    activities,
                    warning_signs,
                    *sql.insert_params(checkin),
                    named,
                    tag_ids,
                    *answer_values,
                ],
            )
            row = cursor.fetchone()
            if row is None:
                return False
        else:
            returning = connection.features.can_return_columns_from_insert
            try:
                cursor.execute(
                    intake.insert_sql(CheckIn, IdempotencyRecord, returning=returning),
                    [
                        *sql.insert_params(checkin),
                        json.dumps(tag_ids),
                        json.dumps(activities),
                        json.dumps(warning_signs),
                        named,
                        *answer_values,
                    ],
                )
            except IntegrityError as error:
                if intake.LABELS_NOT_FOUND in str(error):
                    return False
                raise
            if not returning:
                # The key is this person's and unique, so the answer found is the one just stored.
                cursor.execute(_answer_id_statement(), [receipt.user_id, receipt.key])
            row = cursor.fetchone()
        checkin.pk = row[0]
    checkin._state.adding = False
    checkin._state.db = connection.alias
    return True


@cache
def _answer_id_statement() -> str:
    quote = connection.ops.quote_name
    field = IdempotencyRecord._meta.get_field
    # Only names from the model are formatted in; the person and the key are parameters.
    return (
        f"SELECT {quote(field('created_id').column)} FROM {quote(IdempotencyRecord._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(field('user').column)} = %s AND {quote(field('key').column)} = %s"
    )


# Check-ins per announcing transaction. On SQLite the transaction holds the database's one write lock while the
# receivers work, so a batch is kept short for the requests waiting to write.
ANNOUNCE_BATCH = 50


class _TakenMeanwhile(Exception):
    """Another worker announced some of the batch between reading it and marking it."""


def announce_waiting(limit: int = ANNOUNCE_BATCH) -> int:
    """Announce a batch of stored check-ins (`events.checkins_recorded`) and mark them announced, in one
    transaction: a crash announces them again, never loses them. Returns how many were announced.

    On PostgreSQL the rows are locked and other workers skip them, so two workers announce different batches.
    On SQLite, where one writer at a time holds the whole database, the batch is read before the write lock is
    taken (readers never wait), and so is the receivers' work (`events.checkins_waiting`): the lock is held
    for the writes only. Marking the batch counts only if no other worker marked any of it meanwhile."""
    try:
        if connection.features.has_select_for_update_skip_locked:
            with transaction.atomic():
                batch = _waiting(limit, lock=True)
                _announce(batch, {})
        else:
            batch = _waiting(limit, lock=False)
            prepared = events.send_logged(events.checkins_waiting, checkins=batch) if batch else {}
            with transaction.atomic():
                _announce(batch, prepared)
    except _TakenMeanwhile:
        return 0
    return len(batch)


# The worker reads waiting check-ins several times a second, so its statements are written out, as the
# request's are (core/sql.py says why). The note is left out: nothing above monitoring reads it here, and it
# would be decrypted for nothing.
_LEFT_OUT = ("note",)


@cache
def _waiting_statement(vendor: str, lock: bool) -> str:
    from alongside.accounts.models import User

    quote = connection.ops.quote_name
    table, users = quote(CheckIn._meta.db_table), quote(User._meta.db_table)
    # Only names from the models are formatted in; the limit is a parameter.
    return (
        f"SELECT {sql.columns(CheckIn, 'c', _LEFT_OUT)}, {sql.columns(User, 'u')} FROM {table} c "  # noqa: S608
        f"JOIN {users} u ON u.{quote('id')} = c.{quote('member_id')} WHERE c.{quote('unannounced')} "
        f"ORDER BY c.{quote('id')} LIMIT %s" + (" FOR UPDATE OF c SKIP LOCKED" if lock else "")
    )


def _waiting(limit: int, *, lock: bool) -> list[CheckIn]:
    """Up to `limit` waiting check-ins, oldest first, each with its member and its tags (`tag_list`)."""
    from alongside.accounts.models import User

    rows = sql.fetch(_waiting_statement(connection.vendor, lock), [limit])
    split = sql.width(CheckIn, _LEFT_OUT)
    members: dict[int, object] = {}
    batch = []
    for row in rows:
        checkin = sql.load(CheckIn, row[:split], _LEFT_OUT)
        if checkin.member_id not in members:  # one person per member, however many of their check-ins wait
            members[checkin.member_id] = sql.load(User, row[split:])
        checkin.member = members[checkin.member_id]
        batch.append(checkin)
    tags: dict[int, list[Tag]] = {}
    if batch:
        quote = connection.ops.quote_name
        through = quote(CheckIn.tags.through._meta.db_table)
        for row in sql.fetch(
            f"SELECT l.{quote('checkin_id')}, {sql.columns(Tag, 't')} FROM {through} l "  # noqa: S608
            f"JOIN {quote(Tag._meta.db_table)} t ON t.{quote('id')} = l.{quote('tag_id')} "
            f"WHERE l.{quote('checkin_id')} IN ({', '.join(['%s'] * len(batch))})",
            [checkin.pk for checkin in batch],
        ):
            tags.setdefault(row[0], []).append(sql.load(Tag, row[1:]))
    for checkin in batch:
        checkin.tag_list = tags.get(checkin.pk, [])
    return batch


def _announce(batch: list[CheckIn], prepared: dict) -> None:
    if not batch:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(CheckIn._meta.db_table)} SET {quote('unannounced')} = %s "  # noqa: S608
            f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(batch))}) AND {quote('unannounced')}",
            [False, *(checkin.pk for checkin in batch)],
        )
        marked = cursor.rowcount
    if marked != len(batch):
        raise _TakenMeanwhile
    for checkin in batch:
        checkin.unannounced = False
    events.send_logged(events.checkins_recorded, checkins=batch, prepared=prepared)
