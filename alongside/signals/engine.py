"""The streaming side of early warning: each member's detector state, kept up to date as data arrive.

- New check-ins reach the engine from the worker, in batches, within a second or so of being stored
  (`monitoring.checkins.announce_waiting`). A member's check-ins are added to their pending day (closing the
  days before it), and the day is evaluated as it stands, so an alert can be raised within seconds of the
  check-in that tips it (a firing sets its detector's cooldown, so closing the day later does not raise it
  again). The work is one state row read and written per member in the batch.
- The worker closes each member's day when it ends on their clock (`close_due_days`), which is when silence
  counts: disengagement is noticed on days without check-ins.
- Data for a day already closed (an offline check-in synced late, an import) marks the state stale; the
  worker rebuilds it from history with the same code (`rebuild`). So does a state stored in an older layout.
- Questionnaire responses, safety events, missed appointments and missed group meetings are single events and
  go straight to the alert rules (`on_response`, `on_safety_event`, `on_missed_appointment`,
  `on_missed_group_meeting`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from alongside.care.models import Category, SafetyEvent, SafetyKind
from alongside.core import sql
from alongside.monitoring.models import CheckIn, QuestionnaireResponse, TagKind
from alongside.programs.models import Enrolment
from alongside.schedule import times
from alongside.signals import alerts, detectors
from alongside.signals.detectors import KEYS, N_SCALES, NEVER, SCALES, SERIES, State
from alongside.signals.models import DetectorState, Severity

log = logging.getLogger(__name__)

# Late data within this many days of today may still raise alerts when the state is rebuilt; older history
# only rebuilds the state (a rescan of last year must not page anyone).
RECENT_DAYS = 3
EVIDENCE_DAYS = 28


def _zone(member) -> ZoneInfo:
    return ZoneInfo(member.time_zone)


def local_today(member, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(_zone(member)).date()


def csd_enabled(member) -> bool:
    """Whether one of the member's programs runs the experimental critical-slowing-down detector."""
    enrolments = Enrolment.objects.current().filter(member=member).select_related("program")
    return any(enrolment.program.config.experimental_detectors.get("critical_slowing_down") for enrolment in enrolments)


def scales_of(checkin: CheckIn) -> np.ndarray:
    values = [getattr(checkin, name) for name in SCALES]
    return np.array([np.nan if value is None else float(value) for value in values])


def _locked_row(member) -> DetectorState:
    """The member's state row, locked for this transaction (PostgreSQL; SQLite's write lock is the whole
    database). One prepared statement on the usual path: this runs for every check-in (core/sql.py says why)."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = sql.fetch(
        f"SELECT {sql.columns(DetectorState, 's')} FROM {quote(DetectorState._meta.db_table)} s "  # noqa: S608
        f"WHERE s.{quote('member_id')} = %s{lock}",
        [member.pk],
    )
    if found:
        return sql.load(DetectorState, found[0])
    DetectorState.objects.get_or_create(member=member, defaults={"csd": csd_enabled(member)})
    rows = DetectorState.objects.filter(member=member)
    return (rows.select_for_update() if lock else rows).get()


def _state_values(members: list, *, lock: bool) -> list[tuple]:
    """The members' stored state rows as the database holds them, in member order; with `lock`, locked for this
    transaction (in member order, so two workers never wait on each other in a cycle)."""
    quote = connection.ops.quote_name
    locking = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    ids = sorted(member.pk for member in members)
    return sql.fetch(
        f"SELECT {sql.columns(DetectorState, 's')} FROM {quote(DetectorState._meta.db_table)} s "  # noqa: S608
        f"WHERE s.{quote('member_id')} IN ({', '.join(['%s'] * len(ids))}) ORDER BY s.{quote('member_id')}{locking}",
        ids,
    )


def _locked_rows(members: list) -> list[DetectorState]:
    """The members' state rows (made for those without one), locked for this transaction, in the order of
    `members`."""
    found = _state_values(members, lock=True)
    rows = {row.member_id: row for row in (sql.load(DetectorState, values) for values in found)}
    for member in members:
        if member.pk not in rows:
            rows[member.pk] = _locked_row(member)  # a member's first check-in
    return [rows[member.pk] for member in members]


def _load(row: DetectorState) -> State | None:
    """The stored state, or None when it must be rebuilt (none yet is fine: an empty state)."""
    if not row.data:
        return State(1)
    if row.layout != detectors.LAYOUT_VERSION:
        return None
    return State.from_rows([bytes(row.data)])


def _save(row: DetectorState, state: State, member) -> None:
    _save_all([(row, state, 0, member)])


_SAVED_FIELDS = ("layout", "data", "pending_day", "closes_at", "stale", "csd", "updated_at")


def _save_all(saves: list[tuple[DetectorState, State, int, object]]) -> None:
    """Store each (row, state, index in state, member): one UPDATE statement for them all, written out (as the
    lookup above), since the ORM would compile it anew each time."""
    _store(_save_params(saves))


def _save_params(saves: list[tuple[DetectorState, State, int, object]]) -> list[list]:
    """The UPDATE's parameters for each (row, state, index in state, member), ready for the database."""
    now = timezone.now()
    fields = [DetectorState._meta.get_field(name) for name in _SAVED_FIELDS]
    database = sql.current_connection()
    params = []
    for row, state, index, member in saves:
        row.layout = detectors.LAYOUT_VERSION
        row.data = state.row_bytes(index)
        pending = state.pending_day[index]
        if pending == NEVER:
            row.pending_day = row.closes_at = None
        elif row.pending_day is None or row.pending_day.toordinal() != int(pending) or row.closes_at is None:
            row.pending_day = date.fromordinal(int(pending))
            row.closes_at = times.at(row.pending_day + timedelta(days=1), datetime.min.time(), member.time_zone)
        row.updated_at = now
        values = [field.get_db_prep_save(getattr(row, field.attname), database) for field in fields]
        params.append([*values, row.member_id])
    return params


def _store(params: list[list]) -> None:
    fields = [DetectorState._meta.get_field(name) for name in _SAVED_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(DetectorState._meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model)
            f"WHERE {quote('member_id')} = %s",
            params,
        )


# Evidence -------------------------------------------------------------------------------------------------------


def _points(state: State, day: int, values: np.ndarray) -> list[list]:
    first = day - EVIDENCE_DAYS + 1
    return [
        [date.fromordinal(first + offset).isoformat(), None if np.isnan(value) else round(float(value), 2)]
        for offset, value in enumerate(values)
    ]


def evidence_for(state: State, row: int, key: int, result: detectors.DayResult) -> dict:
    """What a firing shows: the rule's statistic and limit, the baseline, and the days of data it saw."""
    day = result.day
    window = detectors.ring_window(state, day, -(EVIDENCE_DAYS - 1), 0)[row]
    evidence = {
        "statistic": round(float(result.statistic[row, key]), 3),
        "limit": round(float(result.limit[row, key]), 3),
    }
    if key < 2 * detectors.N_SERIES:
        series = key % detectors.N_SERIES
        evidence["series"] = SERIES[series]
        evidence["direction"] = "up" if detectors.DIRECTION[series] > 0 else "down"
        evidence["baseline"] = {
            "median": round(float(state.base_median[row, series]), 2),
            "sigma": round(float(state.base_sigma[row, series]), 2),
            "days": int(state.base_n[row, series]),
        }
        evidence["points"] = _points(state, day, window[:, detectors.CH_SERIES + series])
        evidence["deviation"] = None if np.isnan(result.y[row, series]) else round(float(result.y[row, series]), 2)
    elif key == detectors.K_SIGNS:
        evidence["points"] = _points(state, day, window[:, detectors.CH_SIGNS])
    elif key == detectors.K_DISENGAGEMENT:
        evidence["points"] = _points(state, day, window[:, detectors.CH_CHECKINS])
        last = state.last_checkin_day[row]
        evidence["days_since_checkin"] = None if last == NEVER else int(day - last)
        reference = detectors.ring_window(state, day, -(state.p.ring_days - 1), -state.p.recent_days)[row]
        evidence["reference_rate"] = round(float((reference[:, detectors.CH_CHECKINS] > 0).mean()), 2)
    elif key == detectors.K_CSD:
        evidence["ar1"] = [None if np.isnan(v) else round(float(v), 3) for v in state.csd_ar1[row]]
        evidence["variance"] = [None if np.isnan(v) else round(float(v), 3) for v in state.csd_var[row]]
        evidence["points"] = _points(state, day, 10.0 - window[:, 0])
    return evidence


DETECTOR_OF_KEY = {
    **{index: "baseline" for index in range(2 * detectors.N_SERIES)},
    detectors.K_SIGNS: "warning_signs",
    detectors.K_DISENGAGEMENT: "disengagement",
    detectors.K_CSD: "critical_slowing_down",
}
CATEGORY_OF_DETECTOR = {
    "baseline": Category.CHECKINS.value,
    "warning_signs": Category.CHECKINS.value,
    "critical_slowing_down": Category.CHECKINS.value,
    "disengagement": Category.ENGAGEMENT.value,
}


def severity_for(key: int, fired_today: np.ndarray, statistic: float) -> str:
    """Severity of one daily firing: baseline deviations are worth watching, and high when two rules agree on
    the same day; the member's own warning signs on most days of a week are high."""
    if DETECTOR_OF_KEY[key] == "baseline":
        agreeing = int(fired_today[: 2 * detectors.N_SERIES].sum())
        return Severity.HIGH if agreeing >= 2 else Severity.WATCH
    if key == detectors.K_SIGNS and statistic >= 5:
        return Severity.HIGH
    return Severity.WATCH


def day_firings(member, state: State, result: detectors.DayResult, row: int = 0, at=None) -> list[dict]:
    """What a closed (or trial) day fired, as `alerts.raise_firing`'s arguments, the evidence read from `state`
    as it is now."""
    fired = result.fired[row]
    firings = []
    for key in np.flatnonzero(fired):
        detector = DETECTOR_OF_KEY[int(key)]
        firings.append(
            {
                "member": member,
                "detector": detector,
                "rule": KEYS[int(key)],
                "category": CATEGORY_OF_DETECTOR[detector],
                "severity": severity_for(int(key), fired, float(result.statistic[row, key])),
                "day": date.fromordinal(result.day),
                "evidence": evidence_for(state, row, int(key), result),
                "source_key": f"day:{member.pk}:{date.fromordinal(result.day).isoformat()}:{KEYS[int(key)]}",
                "at": at,
            }
        )
    return firings


def raise_firings(firings: list[dict]) -> int:
    return sum(alerts.raise_firing(**firing) is not None for firing in firings)


def raise_day_firings(member, state: State, result: detectors.DayResult, row: int = 0, at=None) -> int:
    return raise_firings(day_firings(member, state, result, row, at))


# Check-ins ------------------------------------------------------------------------------------------------------


def _close_through(state: State, last: int, csd: np.ndarray | None) -> list[detectors.DayResult]:
    """Close the pending day and every day after it through `last`."""
    results = []
    pending = int(state.pending_day[0])
    if pending == NEVER or pending > last:
        return results
    values, checkins, signs = detectors.pending_values(state)
    results.append(detectors.close_day(state, pending, values, checkins, signs, csd=csd))
    empty = np.full((1, N_SCALES), np.nan)
    # Days without data: each is closed (silence is noticed on the day it becomes long), up to a ring's length;
    # beyond that one closing clears the ring.
    start = max(pending + 1, last - state.p.ring_days + 1)
    for day in range(start, last + 1):
        results.append(detectors.close_day(state, day, empty, np.zeros(1), np.zeros(1), csd=csd))
    detectors.clear_pending(state, 0, last + 1)
    return results


def warning_signs_of(checkin: CheckIn) -> int:
    """How many of the member's own warning signs a check-in names (`tag_list` holds its tags)."""
    return sum(1 for tag in getattr(checkin, "tag_list", ()) if tag.kind == TagKind.WARNING_SIGN)


def on_checkins(member, checkins: list[CheckIn]) -> int:
    """Add one member's newly stored check-ins to their state; see `fold_checkins`."""
    return fold_checkins({member: checkins})


@dataclass
class FoldPlan:
    """What adding a batch of check-ins to their members' states writes, worked out from the stored states
    (`snapshot`, as read)."""

    members: list
    snapshot: list[tuple] = field(default_factory=list)
    stale: list[DetectorState] = field(default_factory=list)  # rows to mark stale (rebuilt by the worker)
    firings: list[dict] = field(default_factory=list)  # alerts.raise_firing's arguments, in order
    save_params: list[list] = field(default_factory=list)  # the states' UPDATE, ready for the database


def fold_checkins(batch: dict) -> int:
    """Add newly stored check-ins ({member: [check-ins]}) to their members' states and raise what fires. Returns
    the number of firings. Inside the caller's transaction (the worker's batch), with the states locked.

    Each member's check-ins go in day by day, closing the days before (usually none: the worker closes each day
    when it ends). Then every member's day is evaluated as it stands on a copy of their state, all members of a
    day in one step: what fires is raised now and its cooldown kept, so closing the day later does not raise it
    again. The states are read with one statement and written with one."""
    members = list(batch)
    return _write_fold(_plan_fold(batch, members, _locked_rows(members)))


def plan_fold(batch: dict) -> FoldPlan | None:
    """`fold_checkins`'s work done ahead, from the committed states and without locking them, for a worker on
    SQLite to do before it takes the database's one write lock (`apply_fold` then writes it). None when a
    member has no state yet: their row is made under the lock."""
    members = list(batch)
    found = _state_values(members, lock=False)
    if len(found) != len(members):
        return None
    rows = {row.member_id: row for row in (sql.load(DetectorState, values) for values in found)}
    plan = _plan_fold(batch, members, [rows[member.pk] for member in members])
    plan.snapshot = found
    return plan


def apply_fold(plan: FoldPlan) -> int | None:
    """Write a plan (inside the write transaction) if every state is still as the plan read it; None if one
    has changed meanwhile, and nothing is written: the batch is then folded afresh."""
    if _state_values(plan.members, lock=False) != plan.snapshot:
        return None
    return _write_fold(plan)


def _write_fold(plan: FoldPlan) -> int:
    for row in plan.stale:
        row.save(update_fields=["stale", "updated_at"])
    raised = raise_firings(plan.firings)
    if plan.save_params:
        _store(plan.save_params)
    return raised


def _plan_fold(batch: dict, members: list, rows: list[DetectorState]) -> FoldPlan:
    plan = FoldPlan(members)
    usable = [bool(row.data) and row.layout == detectors.LAYOUT_VERSION and not row.stale for row in rows]
    state = State.from_rows([bytes(row.data) if ok else None for row, ok in zip(rows, usable, strict=True)])
    csd = np.array([row.csd for row in rows])
    saves, evaluate = [], []
    for index, (member, row) in enumerate(zip(members, rows, strict=True)):
        ordered = sorted(batch[member], key=lambda checkin: (checkin.local_date, checkin.recorded_at, checkin.pk))
        pending = state.pending_day[index]
        stale = row.stale or (row.data and not usable[index])
        if stale or (pending != NEVER and ordered[0].local_date.toordinal() < pending):
            # An older layout, or a day already closed: rebuilt from history by the worker.
            if not row.stale:
                row.stale = True
                plan.stale.append(row)
            continue
        for checkin in ordered:
            day = checkin.local_date.toordinal()
            if state.pending_day[index] != NEVER and state.pending_day[index] < day:
                # Days before this one are still open (the worker has not closed them yet): closed here, on the
                # member's own row.
                own = state.take([index])
                for result in _close_through(own, day - 1, csd[[index]]):
                    plan.firings += day_firings(member, own, result)
                state.matrix[index] = own.matrix[0]
            if state.pending_day[index] == NEVER or state.pending_day[index] < day:
                detectors.clear_pending(state, index, day)
            detectors.accumulate(state, index, scales_of(checkin), warning_signs_of(checkin))
        saves.append((row, state, index, member))
        evaluate.append(index)
    # The days as they stand, one step per day (members whose days differ are a few groups, by time zone).
    for day in sorted({int(state.pending_day[index]) for index in evaluate}):
        group = np.array([index for index in evaluate if state.pending_day[index] == day])
        trial = state.take(group)
        values, counts, signs = detectors.pending_values(trial)
        result = detectors.close_day(trial, day, values, counts, signs, csd=csd[group])
        for position in np.flatnonzero(result.fired.any(axis=1)):
            index = int(group[position])
            fired = result.fired[position]
            state.cooldown_until[index] = np.where(fired, trial.cooldown_until[position], state.cooldown_until[index])
            plan.firings += day_firings(members[index], trial, result, row=int(position))
    plan.save_params = _save_params(saves)  # after the day's evaluation, which sets cooldowns
    return plan


def close_due_days(now: datetime | None = None, limit: int = 500) -> int:
    """Close the days that have ended on members' clocks (silence is noticed here). Checks each closed day
    against the database: a check-in the state missed (its update failed) makes it rebuild."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        rows = DetectorState.objects.filter(closes_at__lte=now, stale=False).order_by("closes_at")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        for row in rows.select_related("member")[:limit]:
            member = row.member
            state = _load(row)
            stored = known_checkins(member).filter(local_date=row.pending_day).count() if row.pending_day else 0
            if state is None or stored != int(state.acc_checkins[0]):
                row.stale = True
                row.save(update_fields=["stale", "updated_at"])
                continue
            today = local_today(member, now).toordinal()
            row.csd = csd_enabled(member)  # once a day: a program may have turned the detector on or off
            csd = np.array([row.csd])
            for result in _close_through(state, today - 1, csd):
                raise_day_firings(member, state, result)
            _save(row, state, member)
            done += 1
    return done


# Rebuilding from history ----------------------------------------------------------------------------------------


def known_checkins(member):
    """The member's check-ins the engine has been told of. One still waiting for the worker is left out: it is
    added when it is announced, so counting it here too would count it twice."""
    return CheckIn.objects.filter(member=member, unannounced=False)


def member_history(member, until: date | None = None):
    """The member's check-ins as daily arrays (one row), from their first check-in through `until`."""
    from alongside.signals import batch

    rows = known_checkins(member)
    if until is not None:
        rows = rows.filter(local_date__lte=until)
    columns = list(rows.order_by("local_date", "recorded_at").values_list("pk", "local_date", *SCALES))
    if not columns:
        return None
    signs = _sign_counts(member)
    first = columns[0][1].toordinal()
    last = (until or columns[-1][1]).toordinal()
    days = np.array([row[1].toordinal() - first for row in columns])
    scales = np.array([[np.nan if v is None else float(v) for v in row[2:]] for row in columns], dtype=float)
    sign_counts = np.array([signs.get(row[0], 0) for row in columns], dtype=float)
    return batch.daily(1, first, last - first + 1, np.zeros(len(columns), dtype=int), days, scales, sign_counts)


def _sign_counts(member) -> dict[int, int]:
    from django.db.models import Count

    links = CheckIn.tags.through.objects.filter(
        checkin__member=member, checkin__unannounced=False, tag__kind=TagKind.WARNING_SIGN
    )
    return dict(links.values("checkin_id").annotate(n=Count("id")).values_list("checkin_id", "n"))


def rebuild(member, now: datetime | None = None, *, raise_days: int = RECENT_DAYS) -> int:
    """Recompute the member's state from all their check-ins (closed through yesterday, today pending), and
    raise what fires on the last `raise_days` days. Returns the number of firings raised."""
    from alongside.signals import batch

    today = local_today(member, now)
    csd = np.array([csd_enabled(member)])
    raised = 0
    with transaction.atomic():
        row = _locked_row(member)
        data = member_history(member, until=today - timedelta(days=1))
        state = State(1)
        if data is not None:
            recent = today.toordinal() - raise_days

            def on_day(offset, result):
                nonlocal raised
                if result.day >= recent and result.fired.any():
                    raised += raise_day_firings(member, state, result)

            state, _firings = batch.run(data, csd=csd, state=state, on_day=on_day)
            detectors.clear_pending(state, 0, today.toordinal())
        todays = known_checkins(member).filter(local_date=today)
        signs = _sign_counts(member)
        for checkin in todays:
            if state.pending_day[0] == NEVER:
                detectors.clear_pending(state, 0, today.toordinal())
            detectors.accumulate(state, 0, scales_of(checkin), signs.get(checkin.pk, 0))
        row.stale = False
        row.csd = bool(csd[0])
        _save(row, state, member)
    return raised


def rebuild_stale(limit: int = 50) -> int:
    done = 0
    for row in DetectorState.objects.filter(stale=True).select_related("member")[:limit]:
        try:
            rebuild(row.member)
            done += 1
        except Exception:
            log.exception("rebuilding the detector state of member %s failed; it stays stale", row.member_id)
    return done


# Single events --------------------------------------------------------------------------------------------------


def on_response(response: QuestionnaireResponse) -> int:
    """Caseness crossed, or reliable deterioration against the member's earlier results of the instrument."""
    if not response.complete or response.total is None:
        return 0
    earlier = list(
        QuestionnaireResponse.objects.filter(
            member=response.member,
            instrument=response.instrument,
            complete=True,
            completed_at__lt=response.completed_at,
        )
        .exclude(pk=response.pk)
        .order_by("-completed_at")
        .values_list("total", "is_case")[: detectors.QUESTIONNAIRE_BASELINE]
    )
    finding = detectors.questionnaire(
        response.instrument, response.total, response.is_case, earlier, daily_view(response.member, response.local_date)
    )
    if not finding.fired:
        return 0
    firing = alerts.raise_firing(
        response.member,
        detector="questionnaire",
        rule=f"{response.instrument}:{'+'.join(finding.rules)}",
        category=Category.QUESTIONNAIRES.value,
        severity=finding.severity,
        day=response.local_date,
        evidence={
            **questionnaire_evidence(response.instrument, finding),
            "band": response.band,
            "earlier": [value for value, _case in earlier],
        },
        source_key=f"response:{response.pk}",
    )
    return int(firing is not None)


def daily_view(member, day: date) -> detectors.DailyView | None:
    """What the member's daily check-ins said before `day`, from their stored state; None when there is no
    usable state (no check-ins yet, or one waiting to be rebuilt): then a questionnaire speaks alone."""
    row = DetectorState.objects.filter(member=member, stale=False).only("layout", "data").first()
    state = _load(row) if row is not None and row.data else None
    return None if state is None else detectors.daily_view(state, 0, day.toordinal())


def questionnaire_evidence(instrument: str, finding: detectors.QuestionnaireFinding) -> dict:
    """What a questionnaire firing shows (live and in a replay)."""
    evidence = {
        "instrument": instrument,
        "score": finding.score,
        "baseline": finding.baseline,
        "previous": finding.previous,
        "reliable_change": detectors.RELIABLE_CHANGE.get(instrument),
        "rules": list(finding.rules),
    }
    if finding.daily is not None and finding.daily.speaks:
        evidence["daily"] = finding.daily.as_evidence()
    return evidence


def safety_rule(event: SafetyEvent) -> tuple[str, str, str]:
    """A safety event's rule, firing category and severity: urgent for PHQ-9 question 9, asking the team, or
    crisis language (which reaches only supporters the member shares their journal with, or their group activity
    for words in a group post); high for pressing "I'm struggling"."""
    urgent = event.team_asked or event.kind in (
        SafetyKind.PHQ9_ITEM9, SafetyKind.CRISIS_LANGUAGE, SafetyKind.CRISIS_LANGUAGE_POST
    )  # fmt: skip
    category = {
        SafetyKind.CRISIS_LANGUAGE: alerts.JOURNAL_SAFETY,
        SafetyKind.CRISIS_LANGUAGE_POST: alerts.GROUP_SAFETY,
    }.get(event.kind, alerts.SAFETY)
    rule = "struggling_team_asked" if event.team_asked else event.kind
    return rule, category, Severity.URGENT if urgent else Severity.HIGH


def on_safety_event(event: SafetyEvent) -> int:
    """Every safety event becomes a firing (`safety_rule` says which)."""
    rule, category, severity = safety_rule(event)
    firing = alerts.raise_firing(
        event.member,
        detector="safety",
        rule=rule,
        category=category,
        severity=severity,
        day=event.occurred_at.astimezone(_zone(event.member)).date(),
        evidence={"kind": event.kind, "team_asked": event.team_asked, "safety_event": event.pk},
        source_key=f"safety:{event.pk}",
    )
    return int(firing is not None)


MISSED_WINDOW = timedelta(days=30)
MISSED_COUNT = 2


def on_missed_appointment(occurrence) -> int:
    """Two or more missed appointments or group meetings within 30 days are a disengagement firing."""
    return _missed_pattern(occurrence.appointment.member, occurrence.start, f"missed:{occurrence.pk}")


def on_missed_group_meeting(attendance) -> int:
    """A missed group meeting joins missed appointments in the same rule (`on_missed_appointment`)."""
    return _missed_pattern(attendance.person, attendance.meeting.start, f"missed-meeting:{attendance.pk}")


def _missed_pattern(member, at: datetime, source_key: str) -> int:
    """The missed-appointments rule over both kinds. The evidence names which were missed (their starts, by
    kind, never the group). Appointments alone stay in the appointments category; once a group meeting counts
    it is about attending at all, which supporters see with engagement."""
    from alongside.groups import meetings
    from alongside.schedule import series

    since = at - MISSED_WINDOW
    appointments = sorted(o.start for o in series.missed(member, since=since).filter(start__lte=at))
    group_meetings = sorted(
        row.meeting.start
        for row in meetings.missed(member, since=since).filter(meeting__start__lte=at).select_related("meeting")
    )
    every = sorted([*appointments, *group_meetings])
    if len(every) < MISSED_COUNT:
        return 0
    category = Category.ENGAGEMENT if group_meetings else Category.APPOINTMENTS
    firing = alerts.raise_firing(
        member,
        detector="disengagement",
        rule="missed_appointments",
        category=category.value,
        severity=Severity.WATCH,
        day=at.astimezone(_zone(member)).date(),
        evidence={
            "missed": [start.isoformat() for start in every],
            "missed_appointments": [start.isoformat() for start in appointments],
            "missed_group_meetings": [start.isoformat() for start in group_meetings],
            "window_days": MISSED_WINDOW.days,
        },
        source_key=source_key,
    )
    return int(firing is not None)


def sweep_safety_events(back: timedelta = timedelta(days=2), now: datetime | None = None) -> int:
    """Give any recent safety event without its firing one (its routing failed when it was recorded)."""
    now = now or timezone.now()
    from alongside.signals.models import Firing

    made = 0
    recent = SafetyEvent.objects.filter(occurred_at__gte=now - back).select_related("member")
    routed = set(
        Firing.objects.filter(source_key__in=[f"safety:{e.pk}" for e in recent]).values_list("source_key", flat=True)
    )
    for event in recent:
        if f"safety:{event.pk}" not in routed:
            made += on_safety_event(event)
    return made
