"""Alerts: one episode per member at a time, the firings that are its evidence, who is told (only supporters
the member consented to for that kind of data), and what the team does about it.

Lifecycle: open → acknowledged (who, when) → resolved with an outcome. A firing while the member has an
unresolved alert joins it (no second alert for an ongoing episode); after resolution each detector's cooldown
(in its state) keeps it from re-opening at once. Open alerts nobody acknowledges escalate after the program's
time for their severity (`alert_sla_minutes`): first everyone told is told again, urgently; an urgent alert
then reaches the organisation's admins, who are told that it waits (never what it says).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import OrgRole, Role
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import policy
from alongside.care.models import CareRelationship, Category, ConsentGrant
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify
from alongside.programs.models import Enrolment
from alongside.programs.settings_schema import ProgramSettings
from alongside.signals.models import SEVERITY_RANK, Alert, AlertRecipient, AlertStatus, Firing, Outcome, Severity

log = logging.getLogger(__name__)

# Firing categories beyond the consent categories: "safety" reaches supporters chosen for safety alerts;
# crisis language in the journal reaches those only if the member also shares their journal with them, and in a
# group post only if the member also shares their group activity with them.
SAFETY = "safety"
JOURNAL_SAFETY = "journal_safety"
GROUP_SAFETY = "group_safety"
SAFETY_CATEGORIES = (SAFETY, JOURNAL_SAFETY, GROUP_SAFETY)
# The consent category a safety category also needs, beyond the choice of who gets safety alerts.
SAFETY_ALSO_NEEDS = {JOURNAL_SAFETY: Category.JOURNAL, GROUP_SAFETY: Category.GROUPS}
FIRING_CATEGORIES = (
    SAFETY,
    JOURNAL_SAFETY,
    GROUP_SAFETY,
    Category.CHECKINS.value,
    Category.QUESTIONNAIRES.value,
    Category.ENGAGEMENT.value,
    Category.APPOINTMENTS.value,
    Category.GROUPS.value,
)
MAX_ESCALATION = 2


def _granting(relationships: QuerySet[CareRelationship], category: str) -> QuerySet[CareRelationship]:
    """Those of the relationships whose supporter may receive a firing of this category."""
    if category == SAFETY:
        return relationships.filter(safety_alerts=True)
    if category in SAFETY_ALSO_NEEDS:
        return relationships.filter(safety_alerts=True, consent_grants__category=SAFETY_ALSO_NEEDS[category])
    return relationships.filter(consent_grants__category=category)


def relationships_for(member, category: str) -> QuerySet[CareRelationship]:
    """The member's live supporters who may receive a firing of this category."""
    return _granting(policy.live_team(member), category)


def _categories_of(person, member) -> set[str]:
    """The firing categories the person may see for this member (all of them for the member)."""
    if person.pk == member.pk:
        return set(FIRING_CATEGORIES)
    relationships = list(policy.live_relationships(person).filter(member=member))
    if not relationships:
        return set()
    shared = set(ConsentGrant.objects.filter(relationship__in=relationships).values_list("category", flat=True))
    categories = shared & set(FIRING_CATEGORIES)
    if any(relationship.safety_alerts for relationship in relationships):
        categories.add(SAFETY)
        categories |= {safety for safety, needs in SAFETY_ALSO_NEEDS.items() if needs in shared}
    return categories


def visible_firings(person, alert: Alert) -> QuerySet[Firing]:
    return alert.firings.filter(category__in=_categories_of(person, alert.member))


def alerts_visible_to(person) -> QuerySet[Alert]:
    """Alerts with at least one firing the person may see: their own, or a member's they support with the
    consent that firing needs. Filtered in the database."""
    if not (person and person.is_authenticated and person.is_active):
        return Alert.objects.none()
    condition = Q(member=person)
    live = policy.live_relationships(person)
    for category in FIRING_CATEGORIES:
        members = _granting(live, category).values("member")
        has_firing = Exists(Firing.objects.filter(alert=OuterRef("pk"), category=category))
        condition |= Q(has_firing, member__in=members)
    return Alert.objects.filter(condition)


def may_view(person, alert: Alert) -> bool:
    return visible_firings(person, alert).exists()


def sla_minutes(member, severity: str) -> int:
    """Minutes before an unacknowledged alert escalates: the shortest of the member's programs' settings."""
    minutes = [
        enrolment.program.config.alert_sla_minutes[severity]
        for enrolment in Enrolment.objects.current().filter(member=member).select_related("program")
    ]
    return min(minutes) if minutes else ProgramSettings().alert_sla_minutes[severity]


def _severity_of(alert: Alert) -> str:
    """The highest firing's severity; evidence that agrees (two detectors, or two rules of the baseline
    detector, such as EWMA and CUSUM both seeing the change) makes it at least high."""
    firings = list(alert.firings.values_list("severity", "detector", "rule"))
    top = max((severity for severity, _d, _r in firings), key=lambda s: SEVERITY_RANK[s], default=Severity.WATCH)
    detectors = {detector for _s, detector, _r in firings}
    rules = {rule for _s, _d, rule in firings}
    if (len(detectors) >= 2 or len(rules) >= 2) and SEVERITY_RANK[top] < SEVERITY_RANK[Severity.HIGH]:
        top = Severity.HIGH
    return top


def raise_firing(
    member,
    *,
    detector: str,
    rule: str,
    category: str,
    severity: str,
    day: date,
    evidence: dict,
    source_key: str,
    at: datetime | None = None,
) -> Firing | None:
    """Record a firing: it joins the member's unresolved alert or opens one, and the supporters consented for
    its category are told. Idempotent on `source_key` (returns None if it was recorded before).

    `at` is the moment it is raised (now, unless a test says otherwise), not when the data were recorded: a
    firing found in late or rebuilt data is news now, and the time to acknowledge it starts now. The data's own
    day is `day`."""
    if category not in FIRING_CATEGORIES:
        raise ValueError(f"unknown firing category {category}")
    at = at or timezone.now()
    with transaction.atomic():
        if Firing.objects.filter(source_key=source_key).exists():
            return None
        open_alerts = Alert.objects.filter(member=member).exclude(status=AlertStatus.RESOLVED)
        if connection.features.has_select_for_update:
            open_alerts = open_alerts.select_for_update()
        alert = open_alerts.order_by("opened_at").first()
        opened = alert is None
        if opened:
            alert = Alert.objects.create(member=member, severity=severity, opened_at=at)
        try:
            with transaction.atomic():
                firing = Firing.objects.create(
                    alert=alert,
                    detector=detector,
                    rule=rule,
                    category=category,
                    severity=severity,
                    day=day,
                    fired_at=at,
                    evidence=evidence,
                    source_key=source_key,
                )
        except IntegrityError:
            return None  # recorded by a concurrent call
        before = alert.severity
        alert.severity = _severity_of(alert)
        raised = opened or SEVERITY_RANK[alert.severity] > SEVERITY_RANK[before]
        if alert.status == AlertStatus.OPEN and (raised or alert.escalate_at is None):
            alert.escalate_at = at + timedelta(minutes=sla_minutes(member, alert.severity))
            alert.escalation_level = 0 if raised else alert.escalation_level
        alert.save(update_fields=["severity", "escalate_at", "escalation_level", "updated_at"])
        _tell(alert, firing, raised=raised)
    log.info("alert %s for member %s: %s (%s)", alert.pk, member.pk, rule, alert.severity)
    return firing


def _title(alert: Alert, firing: Firing) -> str:
    name = alert.member.display_name
    if firing.detector == "safety":
        return _("Safety alert: %(name)s may need support now") % {"name": name}
    if alert.severity == Severity.URGENT:
        return _("Urgent alert about %(name)s") % {"name": name}
    if alert.severity == Severity.HIGH:
        return _("Early-warning alert about %(name)s") % {"name": name}
    return _("Something to watch for %(name)s") % {"name": name}


def _tell(alert: Alert, firing: Firing, *, raised: bool) -> None:
    """Tell the supporters who may see this firing: each is told once per alert, again when its severity rises,
    and about every safety firing."""
    link = reverse("signals:alert", args=[alert.pk])
    kind = NotificationKind.SAFETY_ALERT if firing.category in SAFETY_CATEGORIES else NotificationKind.CARE_TEAM
    for relationship in relationships_for(alert.member, firing.category).select_related("staff", "organisation"):
        person = relationship.staff
        _recipient, new = AlertRecipient.objects.get_or_create(
            alert=alert, person=person, level=0, defaults={"relationship": relationship}
        )
        if not (new or raised or firing.detector == "safety"):
            continue
        notify(
            person,
            kind=kind,
            title=_title(alert, firing),
            link=link,
            source_key=f"alert:{alert.pk}:firing:{firing.pk}:to:{person.pk}",
            urgent=alert.severity == Severity.URGENT,
            at=firing.fired_at,
            organisation=relationship.organisation,
        )


def _audit(alert: Alert, by, detail: str, request=None) -> None:
    roles, organisation = policy.relation_to(by, alert.member)
    record(
        AuditAction.CHANGE,
        request=request,
        actor=by,
        member=alert.member,
        organisation=organisation,
        category=Category.PROFILE,
        detail=detail,
        actor_roles=roles,
    )


def _locked(alert: Alert) -> Alert:
    rows = Alert.objects.filter(pk=alert.pk)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.select_related("member").get()


def acknowledge(alert: Alert, *, by, request=None) -> Alert:
    """Someone on the team has seen it and is acting: escalation stops. Acknowledging twice changes nothing."""
    if by.pk == alert.member_id or not may_view(by, alert):
        raise PermissionDenied
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status != AlertStatus.OPEN:
            return alert
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by = timezone.now(), by
        alert.escalate_at = None
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "escalate_at", "updated_at"])
        _audit(alert, by, f"acknowledged alert {alert.pk}", request)
    return alert


def resolve(alert: Alert, *, by, outcome: str, note: str = "", request=None) -> Alert:
    """Close the episode with what happened. Resolving also acknowledges it if nobody had."""
    if by.pk == alert.member_id or not may_view(by, alert):
        raise PermissionDenied
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose what happened.")})
    note = (note or "").strip()
    if outcome == Outcome.OTHER and not note:
        raise ValidationError({"note": _("Say briefly what happened.")})
    if len(note) > 2000:
        raise ValidationError({"note": _("Keep the note under 2000 characters.")})
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status == AlertStatus.RESOLVED:
            raise ValidationError({"outcome": _("This alert was already resolved.")})
        now = timezone.now()
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = now, by
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at, alert.resolved_by = now, by
        alert.outcome, alert.outcome_note = outcome, note
        alert.escalate_at = None
        alert.save()
        _audit(alert, by, f"resolved alert {alert.pk}: {outcome}", request)
    return alert


# Escalation -----------------------------------------------------------------------------------------------------


def _organisation_admins(member):
    organisations = OrgRole.objects.filter(user=member, role=Role.MEMBER).values("organisation")
    admins = OrgRole.objects.filter(organisation__in=organisations, role=Role.ORG_ADMIN, user__is_active=True)
    return admins.select_related("user", "organisation")


def escalate_due(now: datetime | None = None, limit: int = 200) -> int:
    """Take the next step for open alerts whose time to be acknowledged has passed. Rows are locked and other
    workers skip them (PostgreSQL), so two workers never escalate the same alert twice."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        due = Alert.objects.filter(status=AlertStatus.OPEN, escalate_at__lte=now).order_by("escalate_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        for alert in due.select_related("member")[:limit]:
            _escalate(alert, now)
            done += 1
    return done


def _escalate(alert: Alert, now: datetime) -> None:
    level = alert.escalation_level + 1
    minutes = sla_minutes(alert.member, alert.severity)
    waited = int((now - alert.opened_at).total_seconds() // 60)
    link = reverse("signals:alert", args=[alert.pk])
    title = _("Not yet acknowledged after %(minutes)s minutes: alert about %(name)s") % {
        "minutes": waited,
        "name": alert.member.display_name,
    }
    told = list(
        AlertRecipient.objects.filter(alert=alert, level=0, without_detail=False).select_related(
            "relationship", "person"
        )
    )
    if not told:
        # Nobody receives this kind of alert for the member (their choice): there is no one to escalate along.
        alert.escalate_at = None
        alert.save(update_fields=["escalate_at", "updated_at"])
        return
    for recipient in told:
        if (
            recipient.relationship is None
            or not policy.live_team(alert.member).filter(pk=recipient.relationship_id).exists()
        ):
            continue  # no longer on the team
        AlertRecipient.objects.get_or_create(
            alert=alert, person_id=recipient.person_id, level=level, defaults={"relationship": recipient.relationship}
        )
        notify(
            recipient.person,
            kind=NotificationKind.SAFETY_ALERT if alert.severity == Severity.URGENT else NotificationKind.CARE_TEAM,
            title=title,
            link=link,
            source_key=f"alert:{alert.pk}:escalation:{level}:to:{recipient.person_id}",
            urgent=alert.severity == Severity.URGENT,
            at=now,
            organisation=recipient.relationship.organisation,
        )
    if alert.severity == Severity.URGENT and level >= MAX_ESCALATION:
        # The organisation's admins hear that an urgent alert waits, and who is on the member's team; not what
        # it says (they see what any admin sees: the member's name and care team).
        admin_title = _("An urgent alert about %(name)s has waited %(minutes)s minutes for the care team") % {
            "name": alert.member.display_name,
            "minutes": waited,
        }
        for role in _organisation_admins(alert.member):
            AlertRecipient.objects.get_or_create(
                alert=alert, person=role.user, level=level, defaults={"without_detail": True}
            )
            notify(
                role.user,
                kind=NotificationKind.SAFETY_ALERT,
                title=admin_title,
                link=reverse("web:member_record", args=[alert.member_id]),
                source_key=f"alert:{alert.pk}:escalation:{level}:admin:{role.user_id}",
                urgent=True,
                at=now,
                organisation=role.organisation,
            )
    alert.escalation_level = level
    more = alert.severity == Severity.URGENT and level < MAX_ESCALATION
    alert.escalate_at = now + timedelta(minutes=minutes) if more else None
    alert.save(update_fields=["escalation_level", "escalate_at", "updated_at"])
