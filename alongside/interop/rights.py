"""The member's data rights: download everything Alongside holds about them, delete their account, and stop
sharing with everyone at once.

- `write_archive` writes one zip: a README, `alongside.json` (every app's records about the member, journal
  and notes decrypted), CSV files for check-ins, questionnaire responses and the journal, and the FHIR R4
  bundle of the record (`fhir.patient_bundle`).
- `delete_account` erases the member at once, except the clinical records their program must keep
  (`RETAINED_MODELS`) for `clinical_record_retention_days`: those stay with a tombstone person row (no name,
  no e-mail, no sign-in) until `purge_due`, run by the worker, erases them and the tombstone.
- `withdraw_all_consent` turns every supporter's sharing off through `care.actions.set_sharing`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import secrets
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.accounts.actions import create_person, end_all_sessions
from alongside.accounts.models import STAFF_ROLES, Invitation, Organisation, OrgRole
from alongside.audit.log import forget_person, record
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import actions as care_actions
from alongside.care import policy
from alongside.care.models import CareRelationship, ClinicalNote, OutreachContact, SafetyEvent
from alongside.groups.models import Post, Thread
from alongside.interop import fhir
from alongside.interop.models import AccountDeletion
from alongside.monitoring.models import QuestionnaireResponse
from alongside.notify.models import Notification, NotificationKind
from alongside.notify.outbox import notify
from alongside.programs.models import Enrolment, Program
from alongside.schedule.feeds import revoke_feeds
from alongside.signals.models import Alert

User = get_user_model()

AUDIT_CATEGORY = "interop"

# ---------------------------------------------------------------------------------------------------------------
# Download everything


README = """Everything Alongside holds about you
====================================

Made {made} for {name} (account {pk}).

alongside.json
    Every record Alongside keeps about you, by area: your profile, roles and program enrolments; your care
    team and what you share with each supporter; your aftercare and safety plan (every version); check-ins with
    their tags and notes; your journal; questionnaire responses with their scores and bands; questionnaire
    schedules; safety events; appointments and their occurrences; your routine; goals with milestones,
    progress, encouragement and celebrations; your groups, meeting replies and attendance, your own posts and
    reactions, peer-mentor requests; notifications sent to you; resources your team gave you; early-warning
    alerts about you (severity, status and times); imports you ran; and the access log: every time someone on
    your care team looked at or changed your information, and your own sign-ins.
    Times are UTC (ISO 8601); "local_date" is the day on your own clock.
checkins.csv
    One row per check-in: when, your day, each answer, tags and your note.
questionnaires.csv
    One row per questionnaire response: when, which questionnaire, score, band and each answer.
journal.csv
    One row per journal entry: when, the prompt and your text.
fhir-bundle.json
    The same record in FHIR R4 (a Bundle of Patient, CareTeam, CarePlan, Goal, Appointment, Questionnaire,
    QuestionnaireResponse and Observation resources), the standard health records use: another service can
    read it. Journal entries and check-in notes are not in it.
Not included: your password and sign-in secrets (only their hashes are kept), and your care team's own
clinical notes and alert outcome notes, which are their record about you: ask your program for a copy.
"""


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


SECRET_FIELDS = {"password", "token_hash", "key", "secret", "claimed_by", "client_key", "ip_address"}


def _row(obj: models.Model, *, without: tuple[str, ...] = ()) -> dict:
    """A record's own columns (foreign keys as ids), decrypted, without secrets."""
    row = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.name in without:
            continue
        row[field.attname] = _plain(getattr(obj, field.attname))
    return row


def _rows(queryset, **kwargs) -> list[dict]:
    return [_row(obj, **kwargs) for obj in queryset]


def archive_data(member) -> dict:
    """Everything Alongside holds about the member, as JSON-ready dicts (the member's own view: all of it)."""
    from alongside.care.models import AftercarePlan, ResourceAssignment
    from alongside.goals.models import Celebration, Encouragement, Goal, Milestone, ProgressUpdate
    from alongside.groups.models import Attendance, CommunityProfile, Membership, MentorRequest, Reaction, Rsvp
    from alongside.interop.models import ImportRun
    from alongside.monitoring.models import Assessment, CheckIn, JournalEntry, Tag
    from alongside.notify.models import NotificationPreferences
    from alongside.schedule.models import Appointment, Occurrence, RoutineCheck, RoutineItem, SchedulePreferences

    team = CareRelationship.objects.filter(member=member).select_related("staff", "organisation")
    plan_versions = []
    for plan in AftercarePlan.objects.filter(member=member):
        for version in plan.versions.order_by("pk"):
            row = _row(version)
            with contextlib.suppress(TypeError, ValueError):
                row["content_json"] = json.loads(version.content_json)
            plan_versions.append(row)
    checkins = []
    for checkin in CheckIn.objects.filter(member=member).prefetch_related("tags").order_by("recorded_at"):
        row = _row(checkin)
        row["tags"] = [tag.label for tag in checkin.tags.all()]
        checkins.append(row)
    journal = []
    for entry in JournalEntry.objects.filter(member=member).prefetch_related("shared_with").order_by("written_at"):
        row = _row(entry)
        row["shared_with_relationships"] = [relationship.pk for relationship in entry.shared_with.all()]
        journal.append(row)
    goals = Goal.objects.filter(member=member)
    own_posts = Post.objects.filter(author=member).select_related("thread")
    access_log = (
        AuditEvent.objects.filter(Q(member=member) & ~Q(actor=member) | Q(actor=member, member__isnull=True))
        .select_related("organisation")
        .order_by("at", "pk")
    )
    return {
        "profile": {
            "person": _row(member, without=("is_staff", "is_superuser", "session_generation", "last_login")),
            "roles": [
                {"organisation": role.organisation.name, "role": role.role, "granted_at": _plain(role.granted_at)}
                for role in OrgRole.objects.filter(user=member).select_related("organisation")
            ],
            "enrolments": [
                {**_row(e), "program": e.program.name, "phase": e.phase.name}
                for e in Enrolment.objects.filter(member=member).select_related("program", "phase")
            ],
            "community_profiles": _rows(CommunityProfile.objects.filter(person=member)),
            "notification_preferences": _rows(NotificationPreferences.objects.filter(person=member)),
            "schedule_preferences": _rows(SchedulePreferences.objects.filter(person=member)),
        },
        "care_team": [
            {
                **_row(relationship),
                "supporter": relationship.staff.display_name,
                "organisation": relationship.organisation.name,
                "shares": sorted(relationship.shared_categories),
            }
            for relationship in team
        ],
        "plan": plan_versions,
        "resources": _rows(ResourceAssignment.objects.filter(member=member)),
        "tags": _rows(Tag.objects.filter(member=member)),
        "checkins": checkins,
        "journal": journal,
        "questionnaire_responses": _rows(QuestionnaireResponse.objects.filter(member=member).order_by("completed_at")),
        "questionnaire_schedules": _rows(Assessment.objects.filter(member=member)),
        "safety_events": _rows(SafetyEvent.objects.filter(member=member).order_by("occurred_at")),
        "alerts": _rows(Alert.objects.filter(member=member), without=("outcome_note",)),
        "appointments": [
            {**_row(appointment), "occurrences": _rows(Occurrence.objects.filter(appointment=appointment))}
            for appointment in Appointment.objects.filter(member=member)
        ],
        "routine": [
            {**_row(item), "checks": _rows(RoutineCheck.objects.filter(item=item))}
            for item in RoutineItem.objects.filter(member=member)
        ],
        "goals": {
            "goals": _rows(goals),
            "milestones": _rows(Milestone.objects.filter(goal__in=goals)),
            "progress": _rows(ProgressUpdate.objects.filter(goal__in=goals)),
            "encouragement": [
                {**_row(e), "from": e.author.display_name}
                for e in Encouragement.objects.filter(goal__in=goals).select_related("author")
            ],
            "celebrations": _rows(Celebration.objects.filter(member=member)),
        },
        "groups": {
            "memberships": [
                {**_row(m), "group": m.group.name}
                for m in Membership.objects.filter(person=member).select_related("group")
            ],
            "meeting_replies": _rows(Rsvp.objects.filter(person=member)),
            "attendance": _rows(Attendance.objects.filter(person=member)),
            "threads_started": _rows(Thread.objects.filter(author=member)),
            "posts": [{**_row(post), "thread_title": post.thread.title} for post in own_posts],
            "reactions": _rows(Reaction.objects.filter(person=member)),
            "mentor_requests": _rows(MentorRequest.objects.filter(member=member)),
        },
        "notifications": _rows(Notification.objects.filter(recipient=member).order_by("created_at")),
        "imports": _rows(ImportRun.objects.filter(member=member)),
        "access_log": [
            {
                "at": _plain(event.at),
                "who": event.actor_label,
                "in_the_role_of": event.actor_roles,
                "organisation": event.organisation.name if event.organisation else "",
                "what": event.action,
                "which_data": event.category,
            }
            for event in access_log
        ],
    }


def _csv(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # the mark makes spreadsheets read it as UTF-8


CHECKIN_COLUMNS = ["mood", "anxiety", "energy", "sleep_hours", "sleep_quality", "medication", "cravings"]


def _checkins_csv(data: dict) -> bytes:
    return _csv(
        ["recorded_at", "local_date", *CHECKIN_COLUMNS, "tags", "note"],
        [
            [
                row["recorded_at"],
                row["local_date"],
                *(row.get(c) for c in CHECKIN_COLUMNS),
                "; ".join(row["tags"]),
                row.get("note") or "",
            ]
            for row in data["checkins"]
        ],
    )


def _questionnaires_csv(data: dict) -> bytes:
    return _csv(
        ["completed_at", "local_date", "questionnaire", "version", "score", "band", "answers"],
        [
            [
                row["completed_at"],
                row["local_date"],
                row["instrument"],
                row["instrument_version"],
                row["total"],
                row["band"],
                json.dumps(row["answers"], sort_keys=True),
            ]
            for row in data["questionnaire_responses"]
        ],
    )


def _journal_csv(data: dict) -> bytes:
    return _csv(
        ["written_at", "local_date", "prompt", "text"],
        [[row["written_at"], row["local_date"], row["prompt"], row.get("text") or ""] for row in data["journal"]],
    )


def write_archive(member, file_obj, *, request=None) -> list[str]:
    """Write the member's archive (a zip) to `file_obj`; returns the names of the files in it. Audited."""
    data = archive_data(member)
    now = timezone.now()
    files = {
        "README.txt": README.format(
            made=now.isoformat(timespec="seconds"), name=member.display_name, pk=member.pk
        ).encode(),
        "alongside.json": json.dumps(data, indent=2, ensure_ascii=False, default=str).encode(),
        "checkins.csv": _checkins_csv(data),
        "questionnaires.csv": _questionnaires_csv(data),
        "journal.csv": _journal_csv(data),
        "fhir-bundle.json": json.dumps(fhir.patient_bundle(member, viewer=member), indent=2).encode(),
    }
    with zipfile.ZipFile(file_obj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    record(AuditAction.EXPORT, actor=member, request=request, member=member, category=AUDIT_CATEGORY,
           detail="downloaded everything")  # fmt: skip
    return list(files)


def archive_name(member) -> str:
    return f"alongside-{member.pk}-{timezone.localdate():%Y-%m-%d}.zip"


# ---------------------------------------------------------------------------------------------------------------
# Delete my account

# The clinical records a program keeps for `clinical_record_retention_days` after the member deletes their
# account: the care team's notes, safety events, questionnaire responses (scores), early-warning alerts (with
# their firings and recipients) and outreach contacts.
RETAINED_MODELS = (ClinicalNote, SafetyEvent, QuestionnaireResponse, Alert, OutreachContact)
# What keeps those records readable to the care team while they are kept: the care relationships and consent
# (the policy reads them), the member role and the enrolments (with their transitions). Ended at the purge.
ACCESS_MODELS = (CareRelationship, OrgRole, Enrolment)
RETAINED_DESCRIPTIONS = (
    gettext_lazy("your care team's clinical notes"),
    gettext_lazy("safety events (for example a press of “I'm struggling”)"),
    gettext_lazy("questionnaire responses and their scores"),
    gettext_lazy("early-warning alerts and what was done about them"),
    gettext_lazy("the record of when your team tried to reach you"),
)
DELETED_POST = "<p>[deleted]</p>"
GHOST_EMAIL = "deleted-member@alongside.invalid"


def tombstone_label(person_pk: int) -> str:
    return f"Deleted member #{person_pk}"


def retention_days_for(member) -> int:
    """The longest clinical-record retention among the programs the member has been enrolled in."""
    programs = Program.objects.filter(pk__in=Enrolment.objects.filter(member=member).values("program"))
    return max((program.config.clinical_record_retention_days for program in programs), default=0)


def refusal(member) -> str | None:
    """Why this account cannot delete itself here, or None."""
    if member.is_staff or OrgRole.objects.filter(user=member, role__in=STAFF_ROLES).exists():
        return _("Staff accounts are closed by your organisation's admin, who hands your work to a colleague.")
    if AccountDeletion.objects.filter(person=member).exists():
        return _("This account is already deleted.")
    return None


def _ghost():
    """The one placeholder author that deleted members' posts move to, so others' threads keep their shape."""
    ghost = User.objects.filter(email=GHOST_EMAIL).first()
    if ghost is None:
        ghost = create_person(GHOST_EMAIL, "[deleted]", None)
        User.objects.filter(pk=ghost.pk).update(is_active=False)
    return ghost


def _leave_discussions(member) -> None:
    """Threads only the member wrote in go; elsewhere their posts become "[deleted]" by the placeholder author."""
    others = Post.objects.filter(thread=models.OuterRef("pk")).exclude(author=member)
    Thread.objects.filter(author=member).exclude(models.Exists(others)).delete()
    if not Post.objects.filter(author=member).exists() and not Thread.objects.filter(author=member).exists():
        return
    ghost = _ghost()
    Post.objects.filter(author=member).update(author=ghost, body_html=DELETED_POST, client_key="", crisis=False)
    Thread.objects.filter(author=member).update(author=ghost, title="[deleted]")


def _sessions_of(member) -> list[str]:
    keys = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(member.pk):
            keys.append(session.session_key)
    return keys


def _unname_in_others_notifications(member, replacements: dict[str, str]) -> None:
    """Notifications to other people that named the member ("Please reach out to …") or quoted a thread title
    they wrote ("A post in … was reported") name the tombstone and "[deleted]" instead."""
    wanted = Q()
    for text in replacements:
        wanted |= Q(title__contains=text) | Q(body__contains=text)
    for notification in Notification.objects.filter(wanted).exclude(recipient=member):
        title, body = notification.title, notification.body
        for text, instead in replacements.items():
            title, body = title.replace(text, instead), body.replace(text, instead)
        Notification.objects.filter(pk=notification.pk).update(title=title[:120], body=body[:500])


def _user_foreign_keys():
    """Every foreign key to the person model, with its model."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                yield model, field


def _erase_all_but(member, kept: tuple) -> None:
    """Delete or unlink every row that points at the member, except rows of the `kept` models and the log."""
    for model, field in _user_foreign_keys():
        if model is AuditEvent or model in kept:
            continue
        rows = model._base_manager.filter(**{field.name: member})
        on_delete = field.remote_field.on_delete
        if on_delete is models.SET_NULL:
            rows.update(**{field.name: None})
        elif on_delete is models.CASCADE:
            rows.delete()
    for model in kept:
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User and field.null:
                model._base_manager.filter(**{field.name: member}).update(**{field.name: None})
    member.groups.clear()
    member.user_permissions.clear()


def _names_of(member) -> list[str]:
    from alongside.groups.models import CommunityProfile

    names = {member.display_name, member.email}
    names.update(CommunityProfile.objects.filter(person=member).values_list("pseudonym", flat=True))
    return sorted((name for name in names if name), key=len, reverse=True)


def _tell_team(member, team: list[CareRelationship], *, title: str, body: str, key: str, link: str = "") -> None:
    for relationship in team:
        notify(relationship.staff, kind=NotificationKind.CARE_TEAM, title=title, body=body, link=link,
               source_key=f"{key}:{relationship.staff_id}", organisation=relationship.organisation)  # fmt: skip


@transaction.atomic
def delete_account(member, *, password: str, request=None) -> AccountDeletion | None:
    """Delete the member's account now. Returns the pending purge when their program keeps clinical records (the
    member is then a tombstone until it), or None when everything is gone already."""
    problem = refusal(member)
    if problem:
        raise ValidationError(problem)
    if not password or not member.check_password(password):
        raise ValidationError({"password": _("That is not your password.")})
    member = User.objects.select_for_update().get(pk=member.pk)
    pk, label = member.pk, tombstone_label(member.pk)
    days = retention_days_for(member)
    names = _names_of(member)
    team = list(policy.live_team(member).select_related("staff", "organisation"))
    organisations = {role.organisation_id for role in OrgRole.objects.filter(user=member)}

    end_all_sessions(member)
    revoke_feeds(member, request=request)
    Session.objects.filter(session_key__in=_sessions_of(member)).delete()
    Invitation.objects.filter(email__iexact=member.email).delete()
    _delete_sign_in_records(member.email)
    titles = {title: "[deleted]" for title in Thread.objects.filter(author=member).values_list("title", flat=True)}
    _unname_in_others_notifications(member, titles | dict.fromkeys(names, label))
    _leave_discussions(member)
    forget_person(member, label)
    # The log names the account by its number only.
    for organisation in Organisation.objects.filter(pk__in=organisations) or [None]:
        record(AuditAction.DELETE, actor_label=label, organisation=organisation, category=AUDIT_CATEGORY,
               detail=f"account {pk} deleted; clinical records kept {days} days")  # fmt: skip
    if days:
        body = _(
            "A member you support deleted their account. Their clinical records stay readable to you until "
            "%(until)s, then they are erased."
        ) % {"until": (timezone.now() + timedelta(days=days)).date().isoformat()}
        _tell_team(member, team, title=_("%(label)s deleted their account") % {"label": label}, body=body,
                   key=f"account-deleted:{pk}", link=reverse("web:member_record", args=[pk]))  # fmt: skip
    else:
        body = _("A member you supported deleted their account. Nothing about them is kept.")
        _tell_team(member, team, title=_("%(label)s deleted their account") % {"label": label}, body=body,
                   key=f"account-deleted:{pk}")  # fmt: skip

    if not days:
        _erase_all_but(member, ())
        member.delete()
        return None
    _erase_all_but(member, RETAINED_MODELS + ACCESS_MODELS)
    member.email = f"deleted-{secrets.token_hex(8)}@invalid"
    member.display_name = label
    member.contact_details = ""
    member.time_zone = "UTC"
    member.is_active = False
    member.last_login = None
    member.set_unusable_password()
    # Named fields only: end_all_sessions raised the session counter in the database meanwhile.
    member.save(update_fields=["email", "display_name", "contact_details", "time_zone", "is_active", "last_login",
                               "password"])  # fmt: skip
    return AccountDeletion.objects.create(
        person=member, retention_days=days, purge_after=timezone.now() + timedelta(days=days)
    )


def _delete_sign_in_records(email: str) -> None:
    """django-axes keeps the address typed at each sign-in attempt."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=email).delete()


def purge_due(now: datetime | None = None) -> int:
    """Erase the kept clinical records and the tombstone of every deleted account whose retention has ended;
    returns how many accounts were purged. Run by the worker (`interop/jobs.py`)."""
    now = now or timezone.now()
    purged = 0
    for deletion in AccountDeletion.objects.filter(purge_after__lte=now).select_related("person"):
        with transaction.atomic():
            person = deletion.person
            forget_person(person, tombstone_label(person.pk))
            detail = f"account {person.pk}: kept clinical records erased after {deletion.retention_days} days"
            record(AuditAction.DELETE, actor_label="Alongside", category=AUDIT_CATEGORY, detail=detail)
            _erase_all_but(person, ())
            person.delete()
        purged += 1
    return purged


# ---------------------------------------------------------------------------------------------------------------
# Withdraw consent


@transaction.atomic
def withdraw_all_consent(member, *, request=None) -> int:
    """Stop sharing everything (safety alerts too) with every supporter at once; each change is audited by
    `set_sharing`, and each supporter is told. Returns how many supporters were sharing something."""
    changed = []
    for relationship in CareRelationship.objects.care_team_of(member):
        if not relationship.shared_categories and not relationship.safety_alerts:
            continue
        care_actions.set_sharing(member=member, relationship=relationship, categories=[], safety_alerts=False,
                                 request=request)  # fmt: skip
        changed.append(relationship)
    if changed:
        record(AuditAction.CONSENT_CHANGE, actor=member, request=request, member=member, category=AUDIT_CATEGORY,
               detail=f"stopped sharing with all {len(changed)} supporters")  # fmt: skip
        stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
        _tell_team(
            member, changed,
            title=_("%(name)s stopped sharing their information with you") % {"name": member.display_name},
            body=_("They may share again at any time. Until then you see only that they are on your caseload."),
            key=f"consent-withdrawn:{member.pk}:{stamp}",
        )  # fmt: skip
    return len(changed)
