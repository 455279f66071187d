"""The streaming engine on real check-ins: alerts within the check-in that tips it (once the worker announces
it), days closed by the worker, late data rebuilt from history, and the same state whether built live, rebuilt
or rescanned."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.monitoring import checkins, questionnaires
from alongside.monitoring.models import CheckIn
from alongside.signals import detectors, engine, rescan
from alongside.signals.models import Alert, DetectorState, Firing
from alongside.testing import factories

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("America/New_York")


def at(day, hour=20):
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def checked_in(member, **values):
    """A check-in stored and then announced by the worker, as in production."""
    checkin = checkins.record(member, **values)
    assert checkins.announce_waiting() == 1
    return checkin


def stable_then_low(member, *, days=50, low_from=44):
    """A steady mood around 7 for most of the period, then several low days, recorded one by one."""
    rng = np.random.default_rng(5)
    today = timezone.now().astimezone(ZONE).date()
    first = today - timedelta(days=days)
    for offset in range(days):
        day = first + timedelta(days=offset)
        low = offset >= low_from
        mood = 2 if low else int(np.clip(round(7 + rng.normal(0, 0.8)), 0, 10))
        anxiety = 8 if low else int(np.clip(round(3 + rng.normal(0, 0.8)), 0, 10))
        checked_in(member, mood=mood, anxiety=anxiety, recorded_at=at(day))
    return first


@pytest.fixture
def supported(member, staff, organisation):
    return factories.support(staff, member, organisation, Role.CLINICIAN)


def test_a_sustained_change_raises_an_alert_on_the_check_in_that_tips_it(member, supported):
    stable_then_low(member, days=50, low_from=44)
    alert = Alert.objects.get(member=member)
    firing = alert.firings.order_by("fired_at").first()
    assert firing.detector == "baseline" and firing.rule.endswith(":distress")
    # Not on the first low day (one bad day is not an alert), but within the run of low days.
    first_low = timezone.now().astimezone(ZONE).date() - timedelta(days=6)
    assert first_low + timedelta(days=1) <= firing.day <= first_low + timedelta(days=5)
    assert firing.evidence["baseline"]["days"] >= detectors.DEFAULT.min_observations
    assert firing.evidence["direction"] == "up" and len(firing.evidence["points"]) == engine.EVIDENCE_DAYS
    assert alert.recipients.filter(person=supported.staff).exists()


def test_stable_check_ins_raise_nothing(member, supported):
    stable_then_low(member, days=50, low_from=99)
    assert not Alert.objects.exists()
    row = DetectorState.objects.get(member=member)
    assert row.pending_day == timezone.now().astimezone(ZONE).date() - timedelta(days=1)
    assert not row.stale


def test_the_live_state_equals_a_rebuild_and_a_rescan(member, supported):
    stable_then_low(member, days=40, low_from=99)
    # One more check-in today, and a second on the same day, so a pending day with two check-ins is compared.
    checked_in(member, mood=6, anxiety=4)
    checked_in(member, mood=8, sleep_hours=7.5)
    live = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])

    engine.rebuild(member)
    rebuilt = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])
    np.testing.assert_allclose(rebuilt.matrix, live.matrix, equal_nan=True)

    DetectorState.objects.all().delete()
    rescan.rescan()
    rescanned = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])
    np.testing.assert_allclose(rescanned.matrix, live.matrix, equal_nan=True)


def test_a_late_check_in_for_a_closed_day_rebuilds_the_state(member, supported):
    stable_then_low(member, days=30, low_from=99)
    row = DetectorState.objects.get(member=member)
    week_ago = timezone.now().astimezone(ZONE).date() - timedelta(days=7)
    checked_in(member, mood=5, recorded_at=at(week_ago, 9), source="offline")
    row.refresh_from_db()
    assert row.stale
    assert engine.rebuild_stale() == 1
    row.refresh_from_db()
    assert not row.stale
    state = detectors.State.from_rows([bytes(row.data)])
    slot = week_ago.toordinal() % detectors.DEFAULT.ring_days
    assert state.ring[0, slot, detectors.CH_CHECKINS] == 2  # the late check-in is counted


def test_the_worker_closes_ended_days_and_notices_a_missed_update(member, supported):
    stable_then_low(member, days=20, low_from=99)
    row = DetectorState.objects.get(member=member)
    pending = row.pending_day
    assert engine.close_due_days(now=row.closes_at - timedelta(minutes=1)) == 0
    assert engine.close_due_days(now=row.closes_at + timedelta(minutes=1)) == 1
    row.refresh_from_db()
    assert row.pending_day == pending + timedelta(days=1)
    # A check-in marked announced without its update reaching the state is noticed when its day closes.
    checkin = checkins.record(member, mood=4)
    CheckIn.objects.filter(pk=checkin.pk).update(unannounced=False)  # the engine never heard of it
    row.refresh_from_db()
    assert engine.close_due_days(now=row.closes_at + timedelta(minutes=1)) == 0
    row.refresh_from_db()
    assert row.stale


def test_a_failing_update_never_loses_the_check_in(member, supported, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("detector state unavailable")

    monkeypatch.setattr(engine, "fold_checkins", broken)
    checkin = checked_in(member, mood=3)
    assert CheckIn.objects.filter(pk=checkin.pk, unannounced=False).exists()
    assert DetectorState.objects.get(member=member).stale
    monkeypatch.undo()
    assert engine.rebuild_stale() == 1  # the rebuild counts it
    state = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])
    assert state.acc_checkins[0] == 1


def test_one_members_failure_leaves_the_rest_of_the_batch_folded(member, supported, organisation, monkeypatch):
    other = factories.make_member(organisation)
    real = engine.fold_checkins

    def broken_for_member(batch):
        if member in batch:
            DetectorState.objects.create(member=other, data=b"not a state")  # a write the savepoint must undo
            raise RuntimeError("detector state unavailable")
        return real(batch)

    monkeypatch.setattr(engine, "fold_checkins", broken_for_member)
    checkins.record(member, mood=3)
    checkins.record(other, mood=7)
    assert checkins.announce_waiting() == 2
    assert not CheckIn.objects.filter(unannounced=True).exists()
    assert DetectorState.objects.get(member=member).stale
    other_state = DetectorState.objects.get(member=other)
    assert not other_state.stale and other_state.pending_day == engine.local_today(other)


def test_a_check_in_waits_for_the_worker_and_is_announced_once(member, supported, client):
    checkin = checkins.record(member, mood=2, anxiety=9)
    assert CheckIn.objects.get(pk=checkin.pk).unannounced
    assert not DetectorState.objects.filter(member=member).exists()  # the request only stored it
    metrics = client.get("/metrics").content.decode()
    assert "alongside_checkins_unannounced 1.0" in metrics
    assert checkins.announce_waiting() == 1
    assert checkins.announce_waiting() == 0  # nothing is announced twice
    assert not CheckIn.objects.get(pk=checkin.pk).unannounced
    state = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])
    assert state.acc_checkins[0] == 1
    assert "alongside_checkins_unannounced 0.0" in client.get("/metrics").content.decode()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="on PostgreSQL the batch is claimed by row locks")
def test_a_batch_another_worker_marked_meanwhile_is_left_to_it(member, supported, monkeypatch):
    first = checkins.record(member, mood=4)
    checkins.record(member, mood=5)
    read = checkins._waiting

    def read_then_another_worker_marks(limit, lock):
        batch = read(limit, lock=lock)
        CheckIn.objects.filter(pk=first.pk).update(unannounced=False)
        return batch

    monkeypatch.setattr(checkins, "_waiting", read_then_another_worker_marks)
    assert checkins.announce_waiting() == 0
    assert not DetectorState.objects.filter(member=member).exists()  # nothing folded from the stale batch
    monkeypatch.undo()
    assert checkins.announce_waiting() == 1  # the rest, next time
    assert not CheckIn.objects.filter(unannounced=True).exists()


def test_an_announced_check_in_carries_its_member_tags_and_on_request_its_note(member, supported):
    from alongside.monitoring.events import checkins_recorded

    checkins.use_warning_signs(member, ["Staying in bed"])
    checkins.record(member, mood=3, note="a long day", warning_signs=["Staying in bed"])
    seen = []

    def listener(sender, **kwargs):
        seen.extend((c.member.time_zone, [t.label for t in c.tag_list], c.note) for c in kwargs["checkins"])

    checkins_recorded.connect(listener, dispatch_uid="test_listener")
    try:
        assert checkins.announce_waiting() == 1
    finally:
        checkins_recorded.disconnect(dispatch_uid="test_listener")
    assert seen == [(member.time_zone, ["Staying in bed"], "a long day")]


def test_the_worker_loop_announces_waiting_check_ins(member, supported):
    from alongside.core.worker import Worker

    checkins.record(member, mood=3)
    checkins.record(member, mood=4)
    Worker(beat_seconds=60).run(max_cycles=1)
    assert not CheckIn.objects.filter(unannounced=True).exists()
    assert detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)]).acc_checkins[0] == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_two_workers_announce_different_check_ins(organisation):
    import threading

    from django.db import connections, transaction

    first, second = (factories.make_member(organisation) for _ in range(2))
    held_checkin = checkins.record(first, mood=3)
    checkins.record(second, mood=4)
    holding, release = threading.Event(), threading.Event()

    def first_worker():
        # Holds the first check-in as a worker does while it announces its batch.
        try:
            with transaction.atomic():
                list(CheckIn.objects.filter(pk=held_checkin.pk).select_for_update())
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert holding.wait(10)
        assert checkins.announce_waiting() == 1  # the second worker skips the held row
    finally:
        release.set()
        thread.join()
    assert list(CheckIn.objects.filter(unannounced=True)) == [held_checkin]
    assert DetectorState.objects.filter(member=second).exists() and not DetectorState.objects.filter(member=first)
    assert checkins.announce_waiting() == 1 and not CheckIn.objects.filter(unannounced=True).exists()


def test_a_batch_of_many_days_gives_the_state_one_by_one_does(member, supported, organisation):
    """Check-ins that waited (a worker was down for weeks) are folded day by day in one batch, with what fires
    on the days they close, and the state equals the one built as they arrived."""
    other = factories.make_member(organisation, time_zone=member.time_zone)
    factories.support(supported.staff, other, organisation, Role.CLINICIAN)
    today = timezone.now().astimezone(ZONE).date()
    for person in (member, other):
        for offset in range(40, 0, -1):
            low = offset <= 6
            values = {"mood": 2, "anxiety": 8} if low else {"mood": 7 - offset % 2, "anxiety": 3 + offset % 2}
            checkins.record(person, **values, recorded_at=at(today - timedelta(days=offset)))
            if person == member:
                assert checkins.announce_waiting() == 1
    assert checkins.announce_waiting(limit=1000) == 40  # the other member's weeks, in one batch
    states = {row.member_id: detectors.State.from_rows([bytes(row.data)]) for row in DetectorState.objects.all()}
    np.testing.assert_allclose(states[other.pk].matrix, states[member.pk].matrix, equal_nan=True)
    assert Alert.objects.filter(member=other).exists() and Alert.objects.filter(member=member).exists()


def state_of(member) -> detectors.State:
    return detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])


def test_a_fold_worked_out_ahead_writes_what_a_fold_under_the_lock_writes(member, supported, organisation):
    """SQLite's worker works a batch out before it takes the write lock (`plan_fold`) and writes it under the
    lock (`apply_fold`): the states and alerts are those of the usual fold."""
    other = factories.make_member(organisation, time_zone=member.time_zone)
    factories.support(supported.staff, other, organisation, Role.CLINICIAN)
    today = timezone.now().astimezone(ZONE).date()
    for person in (member, other):
        checkins.use_warning_signs(person, ["Not sleeping"])
        for offset in range(46, 6, -1):
            checked_in(
                person, mood=7 - offset % 2, anxiety=3 + offset % 2, recorded_at=at(today - timedelta(days=offset))
            )
    for person in (member, other):  # a low week, waiting for the worker
        for offset in range(6, 0, -1):
            checkins.record(person, mood=2, anxiety=8, recorded_at=at(today - timedelta(days=offset)))
        checkins.record(person, mood=1, anxiety=9, warning_signs=["Not sleeping"])
    batch = {}
    for checkin in checkins._waiting(100, lock=False):
        batch.setdefault(checkin.member, []).append(checkin)

    plan = engine.plan_fold({member: batch[member]})
    assert plan is not None and plan.firings  # the low day fires
    assert not Alert.objects.exists()  # working it out wrote nothing
    assert engine.apply_fold(plan) == len(plan.firings)
    engine.fold_checkins({other: batch[other]})

    np.testing.assert_allclose(state_of(member).matrix, state_of(other).matrix, equal_nan=True)
    assert sorted(Firing.objects.filter(alert__member=member).values_list("rule", "day", "evidence")) == sorted(
        Firing.objects.filter(alert__member=other).values_list("rule", "day", "evidence")
    )


def test_a_plan_whose_state_changed_meanwhile_writes_nothing(member, supported):
    checked_in(member, mood=6)
    checkins.record(member, mood=5)
    waiting = checkins._waiting(10, lock=False)
    plan = engine.plan_fold({member: waiting})
    checked_in_meanwhile = checkins.record(member, mood=4)
    engine.fold_checkins({member: checkins._waiting(10, lock=False)[1:]})  # another writer folds one
    CheckIn.objects.filter(pk=checked_in_meanwhile.pk).update(unannounced=False)
    after_meanwhile = state_of(member)
    assert engine.apply_fold(plan) is None
    np.testing.assert_allclose(state_of(member).matrix, after_meanwhile.matrix, equal_nan=True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the fold is worked out ahead where SQLite's lock is one")
def test_a_worker_whose_plan_is_out_of_date_folds_afresh_and_counts_each_check_in_once(member, supported, monkeypatch):
    checked_in(member, mood=6)
    checked_in(member, mood=5)
    checkins.record(member, mood=4)
    real_plan = engine.plan_fold

    def plan_then_another_check_in_is_folded(batch):
        made = real_plan(batch)
        late = checkins.record(member, mood=3)
        engine.fold_checkins(
            {member: [checkin for checkin in checkins._waiting(10, lock=False) if checkin.pk == late.pk]}
        )
        CheckIn.objects.filter(pk=late.pk).update(unannounced=False)
        return made

    monkeypatch.setattr(engine, "plan_fold", plan_then_another_check_in_is_folded)
    assert checkins.announce_waiting() == 1
    assert state_of(member).acc_checkins[0] == 4
    assert not CheckIn.objects.filter(unannounced=True).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the fold is worked out ahead where SQLite's lock is one")
def test_on_sqlite_the_worker_works_the_fold_out_before_its_write_transaction(member, supported):
    from alongside.monitoring.events import checkins_recorded, checkins_waiting
    from alongside.signals.receivers import plan_checkins

    checked_in(member, mood=6)
    checkins.record(member, mood=5)
    outside = len(connection.atomic_blocks)  # the test's own transaction
    seen = {}

    def waiting(sender, checkins, **kwargs):
        seen["waiting"] = len(connection.atomic_blocks)

    def recorded(sender, checkins, prepared, **kwargs):
        seen["recorded"] = len(connection.atomic_blocks)
        seen["plan"] = prepared.get(plan_checkins)

    checkins_waiting.connect(waiting, dispatch_uid="test_waiting")
    checkins_recorded.connect(recorded, dispatch_uid="test_recorded")
    try:
        assert checkins.announce_waiting() == 1
    finally:
        checkins_waiting.disconnect(dispatch_uid="test_waiting")
        checkins_recorded.disconnect(dispatch_uid="test_recorded")
    assert seen["waiting"] == outside
    assert seen["recorded"] > outside
    assert isinstance(seen["plan"], engine.FoldPlan) and seen["plan"].members == [member]
    assert state_of(member).acc_checkins[0] == 2


def test_a_rebuild_before_the_worker_announces_counts_nothing_twice(member, supported):
    stable_then_low(member, days=10, low_from=99)
    checkins.record(member, mood=5)
    engine.rebuild(member)  # leaves out the waiting check-in
    assert checkins.announce_waiting() == 1  # which is added now, once
    live = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])
    engine.rebuild(member)
    rebuilt = detectors.State.from_rows([bytes(DetectorState.objects.get(member=member).data)])
    np.testing.assert_allclose(rebuilt.matrix, live.matrix, equal_nan=True)
    assert live.acc_checkins[0] == 1


def test_a_worsening_questionnaire_is_a_firing_for_those_who_see_questionnaires(
    member, supported, django_capture_on_commit_callbacks
):
    now = timezone.now()
    answers = {"low": dict.fromkeys(range(1, 10), 0), "high": {**dict.fromkeys(range(1, 9), 2), 9: 0}}
    with django_capture_on_commit_callbacks(execute=True):
        questionnaires.submit(member, "phq9", answers["low"], completed_at=now - timedelta(days=28))
        questionnaires.submit(member, "phq9", answers["low"], completed_at=now - timedelta(days=14))
    assert not Firing.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        questionnaires.submit(member, "phq9", answers["high"], completed_at=now)
    firing = Firing.objects.get(detector="questionnaire")
    assert firing.rule == "phq9:caseness+deterioration" and firing.severity == "high"
    assert firing.evidence["score"] == 16 and firing.evidence["baseline"] == 0


def phq9_low_low_high(member, with_commits):
    """Two PHQ-9s of 0 a fortnight apart, then a 16 (a reliable deterioration into caseness) now."""
    now = timezone.now()
    low, high = dict.fromkeys(range(1, 10), 0), {**dict.fromkeys(range(1, 9), 2), 9: 0}
    for answers, days_ago in ((low, 28), (low, 14), (high, 0)):
        with with_commits(execute=True):
            questionnaires.submit(member, "phq9", answers, completed_at=now - timedelta(days=days_ago))


def test_a_worse_questionnaire_is_held_back_while_the_daily_check_ins_show_the_member_at_their_usual(
    member, supported, django_capture_on_commit_callbacks
):
    stable_then_low(member, days=40, low_from=99)
    phq9_low_low_high(member, django_capture_on_commit_callbacks)
    assert not Firing.objects.exists() and not Alert.objects.exists()
    # The replay (through today, the questionnaire's day) says what was held back, and why.
    today = engine.local_today(member).isoformat()
    out = StringIO()
    call_command("signals", "replay", "--member", str(member.pk), "--until", today, "--json", stdout=out)
    held = [item for entry in json.loads(out.getvalue())["days"] for item in entry.get("held_back", [])]
    assert [item["rule"] for item in held] == ["phq9:caseness+deterioration"]
    assert "near their usual" in held[0]["why"] and "raised no alert" in held[0]["why"]
    text = StringIO()
    call_command("signals", "replay", "--member", str(member.pk), "--until", today, stdout=text)
    assert "HELD BACK phq9:caseness+deterioration" in text.getvalue()


def test_a_worse_questionnaire_fires_when_the_daily_check_ins_agree(
    member, supported, django_capture_on_commit_callbacks
):
    stable_then_low(member, days=50, low_from=44)
    phq9_low_low_high(member, django_capture_on_commit_callbacks)
    firing = Firing.objects.get(detector="questionnaire")
    daily = firing.evidence["daily"]
    assert daily["agrees"] and daily["days"] == 14 and daily["ewma"] >= detectors.DAILY_AGREEMENT
    from alongside.signals import explain

    assert "daily check-ins agree" in explain.describe(firing)


def test_replay_prints_what_fired_and_why(member, supported):
    stable_then_low(member, days=50, low_from=44)
    out = StringIO()
    call_command("signals", "replay", "--member", str(member.pk), "--json", stdout=out)
    days = json.loads(out.getvalue())["days"]
    fired = [entry for entry in days if entry["fired"]]
    assert fired and fired[0]["fired"][0]["rule"].endswith(":distress")
    assert "usual level" in fired[0]["fired"][0]["why"]
    live = Firing.objects.filter(detector="baseline").order_by("day").first()
    assert fired[0]["day"] == live.day.isoformat()
    text = StringIO()
    call_command("signals", "replay", "--member", member.email, "--since", fired[0]["day"], stdout=text)
    assert "FIRED" in text.getvalue()


def test_the_members_own_warning_signs_on_three_days_of_a_week_fire(member, supported):
    checkins.use_warning_signs(member, ["Skipping meals", "Staying in bed"])
    today = timezone.now().astimezone(ZONE).date()
    for days_ago, signs in ((6, ["Skipping meals"]), (4, []), (3, ["Staying in bed"])):
        checked_in(member, mood=6, warning_signs=signs, recorded_at=at(today - timedelta(days=days_ago)))
    assert not Firing.objects.filter(detector="warning_signs").exists()  # two days of seven
    checked_in(member, mood=6, warning_signs=["Skipping meals"], recorded_at=at(today - timedelta(days=1)))
    firing = Firing.objects.get(detector="warning_signs")
    assert firing.category == "checkins" and firing.evidence["statistic"] == 3
    assert firing.day == today - timedelta(days=1)


def test_rising_variability_is_drawn_as_a_trend():
    from alongside.signals import explain

    firing = Firing(
        detector="critical_slowing_down", rule="critical_slowing_down", day=timezone.localdate(),
        evidence={"statistic": 0.62, "limit": 0.5, "ar1": [0.1 + 0.02 * i for i in range(28)],
                  "variance": [0.5 + 0.05 * i for i in range(28)],
                  "points": [[(timezone.localdate() - timedelta(days=27 - i)).isoformat(), 3.0] for i in range(28)]},
    )  # fmt: skip
    svg = explain.chart(firing)
    assert svg.count("<svg") == 2 and "Autocorrelation of low mood" in svg and "Variance of low mood" in svg
    assert "Kendall's tau 0.6" in explain.describe(firing)


def test_the_command_rescans_everyone_and_evaluates(member, supported):
    stable_then_low(member, days=20, low_from=99)
    DetectorState.objects.all().delete()
    out = StringIO()
    call_command("signals", "rescan", stdout=out)
    assert "from 20 check-ins" in out.getvalue()
    assert DetectorState.objects.filter(member=member, stale=False).exists()
    report = StringIO()
    call_command("signals", "evaluate", "--members", "60", "--days", "120", stdout=report)
    assert "gradual relapses caught" in report.getvalue() and "noisy_sparse" in report.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_rescan_outside_a_transaction_stores_what_a_rebuild_does(organisation):
    """Outside a transaction the rescan may read and write in a background thread (on PostgreSQL); in blocks of
    one member, every block's reading and writing goes through it. Each stored state, its pending day and when
    that closes are what rebuilding the member alone gives, and nothing is left stale."""
    rng = np.random.default_rng(11)
    members = [factories.make_member(organisation, time_zone=zone) for zone in ("America/New_York", "Asia/Tokyo")]
    members.append(factories.make_member(organisation))  # no check-ins: no state
    for number, member in enumerate(members[:2]):
        today = timezone.now().astimezone(ZoneInfo(member.time_zone)).date()
        CheckIn.objects.bulk_create(
            CheckIn(
                member=member,
                local_date=today - timedelta(days=offset),
                mood=int(rng.integers(3, 9)),
                sleep_hours=None if offset % 5 == number else round(float(rng.uniform(5, 9)), 2),
                recorded_at=timezone.now() - timedelta(days=offset),
            )
            for offset in range(70 - 20 * number, -1, -1)
            if offset % 9 != 4
        )
    rescan.rescan(block=1)
    assert rescan._Database.background_possible() == (connection.vendor != "sqlite")
    rescanned = {row.member_id: row for row in DetectorState.objects.all()}
    assert set(rescanned) == {members[0].pk, members[1].pk}
    for member in members[:2]:
        DetectorState.objects.filter(member=member).delete()
        engine.rebuild(member)
        rebuilt = DetectorState.objects.get(member=member)
        row = rescanned[member.pk]
        assert row.layout == rebuilt.layout == detectors.LAYOUT_VERSION and not row.stale
        assert (row.pending_day, row.closes_at, row.csd) == (rebuilt.pending_day, rebuilt.closes_at, rebuilt.csd)
        assert bytes(row.data) == bytes(rebuilt.data)
