from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from alongside.accounts.models import Role, User
from alongside.monitoring import instruments, synthetic
from alongside.monitoring.models import DEFAULT_ACTIVITIES, CheckIn, QuestionnaireResponse, SyntheticTruth
from alongside.programs import actions as program_actions
from alongside.programs.models import Enrolment
from alongside.testing.factories import make_member, make_staff

START = date(2025, 2, 3)  # a Monday; the period crosses the March change to daylight-saving time


@pytest.fixture(scope="module")
def cohort():
    return synthetic.generate(200, 120, seed=5, start_date=START, sampling_share=0.2, time_zone="America/New_York")


@pytest.fixture(scope="module")
def events():
    """Only trajectories with an onset, followed long enough to compare two four-week windows before it."""
    mix = {"gradual_relapse": 1, "sudden_crisis": 1, "disengagement": 1}
    return synthetic.generate(90, 240, seed=11, start_date=START, mix=mix, sampling_share=0)


def arrays(cohort):
    yield "negative_affect", cohort.negative_affect
    for name in ("trajectory", "onset", "adherence", "sampling", "medication_na"):
        yield name, getattr(cohort, name)
    for part in (cohort.checkins, cohort.responses):
        for field in fields(part):
            yield f"{type(part).__name__}.{field.name}", getattr(part, field.name)


def members_of(cohort, trajectory):
    return np.nonzero(cohort.trajectory == synthetic.TRAJECTORIES.index(trajectory))[0]


def detrended(values):
    days = np.arange(len(values))
    return values - np.polyval(np.polyfit(days, values, 1), days)


def lag1_autocorrelation(values):
    values = values - values.mean()
    return float((values[1:] * values[:-1]).sum() / (values * values).sum())


def test_the_same_seed_gives_the_same_cohort_and_another_seed_another(cohort):
    again = synthetic.generate(200, 120, seed=5, start_date=START, sampling_share=0.2, time_zone="America/New_York")
    other = synthetic.generate(200, 120, seed=6, start_date=START, sampling_share=0.2, time_zone="America/New_York")
    for (name, mine), (_, same), (_, different) in zip(arrays(cohort), arrays(again), arrays(other), strict=True):
        np.testing.assert_array_equal(mine, same, err_msg=name)
        assert mine.shape != different.shape or not np.array_equal(mine, different), name


def test_values_stay_in_their_ranges(cohort):
    c = cohort.checkins
    for name in ("mood", "anxiety", "energy", "cravings"):
        values = getattr(c, name)
        assert values.min() >= 0 and values.max() <= 10, name
        assert len(np.unique(values)) >= 6, f"{name} should use most of the scale"
    asked = c.sleep_quality >= 0
    assert c.sleep_quality.max() <= 10
    hours = c.sleep_hours[asked]
    assert not np.isnan(hours).any() and np.isnan(c.sleep_hours[~asked]).all()
    assert hours.min() >= 3 and hours.max() <= 11 and 6.5 < hours.mean() < 8
    np.testing.assert_array_equal(hours * 4, np.round(hours * 4))
    assert set(np.unique(c.medication[asked])) <= {0, 1, 2} and (c.medication[~asked] == -1).all()
    assert c.activities.max() < 2 ** len(DEFAULT_ACTIVITIES)
    assert (c.minute >= 6 * 60).all() and (c.minute < 24 * 60).all()
    assert c.day.min() >= 0 and c.day.max() < cohort.days
    assert ((cohort.negative_affect >= 0) & (cohort.negative_affect <= 10)).all()


def test_medication_is_mostly_taken_and_some_members_take_none(cohort):
    c = cohort.checkins
    asked = c.medication >= 0
    no_medication = cohort.medication_na[c.member]
    assert (c.medication[asked & no_medication] == 2).all()
    answered = c.medication[asked & ~no_medication]
    assert 0.85 < (answered == 0).mean() < 0.995 and (answered == 1).any() and not (answered == 2).any()
    assert 0.1 < cohort.medication_na.mean() < 0.4


def test_activities_come_from_the_default_list_and_more_often_on_good_days(cohort):
    c = cohort.checkins
    counts = np.array([bin(mask).count("1") for mask in c.activities.tolist()])
    assert synthetic.activity_labels(int(c.activities[counts.argmax()]))[0] in DEFAULT_ACTIVITIES
    mood = c.mood.astype(float)
    assert counts[mood >= 7].mean() > counts[mood <= 4].mean() + 0.2


def test_times_are_local_daytime_or_evening_stored_in_utc(cohort):
    c, zone = cohort.checkins, ZoneInfo("America/New_York")
    for index in np.linspace(0, len(c) - 1, 400).astype(int):
        at = datetime.fromtimestamp(int(c.recorded_at[index].astype(np.int64)), UTC).astimezone(zone)
        assert at.date() == START + timedelta(days=int(c.day[index]))
        assert at.hour * 60 + at.minute == c.minute[index]
    single = ~cohort.sampling[c.member]
    assert (c.minute[single] >= 17 * 60).mean() > 0.5  # most people check in in the evening
    r = cohort.responses
    local = datetime.fromtimestamp(int(r.recorded_at[-1].astype(np.int64)), UTC).astimezone(zone)
    assert local.date() == START + timedelta(days=int(r.day[-1]))


def test_adherence_is_within_bounds_and_drives_how_often_members_check_in(cohort):
    assert (cohort.adherence >= 0.45).all() and (cohort.adherence <= 0.95).all()
    stable = members_of(cohort, "stable")
    checked_days = np.zeros((cohort.n_members, cohort.days), dtype=bool)
    checked_days[cohort.checkins.member, cohort.checkins.day] = True
    share = checked_days[stable].mean(axis=1)
    assert 0.35 < share.mean() < 0.85
    assert np.corrcoef(share, cohort.adherence[stable])[0, 1] > 0.6
    weekday = (START.weekday() + np.arange(cohort.days)) % 7
    assert checked_days[stable][:, weekday >= 5].mean() < checked_days[stable][:, weekday < 5].mean()


def test_disengaging_members_check_in_clearly_less_after_onset(events):
    checked_days = np.zeros((events.n_members, events.days), dtype=bool)
    checked_days[events.checkins.member, events.checkins.day] = True
    disengaging = members_of(events, "disengagement")
    assert len(disengaging) >= 10
    before, after = [], []
    for member in disengaging:
        onset = events.onset[member]
        before.append(checked_days[member, onset - 28 : onset].mean())
        after.append(checked_days[member, onset + 7 : onset + 35].mean())
    assert np.mean(before) > 0.6
    assert np.mean(after) < 0.4 * np.mean(before)
    assert (np.array(after) < np.array(before)).all()


def test_gradual_relapse_shows_rising_variance_and_autocorrelation_before_onset(events):
    relapsing = members_of(events, "gradual_relapse")
    assert len(relapsing) >= 15
    early_variance, late_variance, early_ac, late_ac = [], [], [], []
    for member in relapsing:
        onset = int(events.onset[member])
        assert onset >= 84
        early = detrended(events.negative_affect[member, onset - 84 : onset - 56].astype(float))
        late = detrended(events.negative_affect[member, onset - 28 : onset].astype(float))
        early_variance.append(early.var())
        late_variance.append(late.var())
        early_ac.append(lag1_autocorrelation(early))
        late_ac.append(lag1_autocorrelation(late))
    assert np.mean(late_variance) > 1.5 * np.mean(early_variance)
    assert np.mean(late_ac) > np.mean(early_ac) + 0.15
    # And the drift: the month before onset is worse than the month before that.
    late_level = [events.negative_affect[m, events.onset[m] - 7 : events.onset[m]].mean() for m in relapsing]
    early_level = [events.negative_affect[m, events.onset[m] - 84 : events.onset[m] - 56].mean() for m in relapsing]
    assert np.mean(late_level) > np.mean(early_level) + 1.5


def test_sudden_crisis_drops_mood_at_onset(events):
    c = events.checkins
    drops = []
    for member in members_of(events, "sudden_crisis"):
        onset = events.onset[member]
        mine = c.member == member
        before = c.mood[mine & (c.day >= onset - 7) & (c.day < onset)]
        after = c.mood[mine & (c.day >= onset) & (c.day < onset + 4)]
        if len(before) and len(after):
            drops.append(before.mean() - after.mean())
        jump = events.negative_affect[member, onset] - events.negative_affect[member, onset - 7 : onset].mean()
        assert jump > 1.5
    assert len(drops) >= 10 and np.mean(drops) > 2.5


def test_questionnaires_follow_the_schedule_and_track_the_latent_state(cohort):
    r = cohort.responses
    recent = np.array(
        [cohort.negative_affect[m, max(0, d - 13) : d + 1].mean() for m, d in zip(r.member, r.day, strict=True)]
    )
    for code, every, direction in (("phq9", 14, 1), ("gad7", 14, 1), ("who5", 28, -1)):
        chosen = r.instrument == synthetic.INSTRUMENTS.index(code)
        assert chosen.sum() > cohort.n_members, code
        assert (r.day[chosen] % every <= 2).all(), code  # answered within the three-day window
        assert direction * np.corrcoef(recent[chosen], r.total[chosen])[0, 1] > 0.7, code
    for index in range(0, len(r), 37):
        scored = instruments.score(instruments.get(synthetic.INSTRUMENTS[r.instrument[index]]), r.answers_of(index))
        assert scored.complete and scored.total == r.total[index]


def test_item_nine_is_rarely_positive_and_mostly_around_a_crisis(events):
    calm = synthetic.generate(300, 180, seed=2, start_date=START, mix={"stable": 1, "improving": 1})
    phq9 = calm.responses.instrument == 0
    assert (calm.responses.answers[phq9, 8] > 0).mean() < 0.01
    r = events.responses
    phq9 = r.instrument == 0
    positive = phq9 & (r.answers[:, 8] > 0)
    since_onset = r.day - events.onset[r.member]
    near_crisis = (events.trajectory[r.member] == synthetic.SUDDEN_CRISIS) & (np.abs(since_onset) <= 21)
    near_relapse = (events.trajectory[r.member] == synthetic.GRADUAL_RELAPSE) & (since_onset >= 0) & (since_onset <= 28)
    assert positive.sum() >= 5 and (positive & (near_crisis | near_relapse)).sum() > 0.6 * positive.sum()
    assert positive[near_crisis].mean() > 10 * positive[phq9 & ~near_crisis & ~near_relapse].mean()


def test_experience_sampling_members_check_in_several_times_on_some_days(cohort):
    c = cohort.checkins
    pairs, per_day = np.unique(np.stack([c.member, c.day]), axis=1, return_counts=True)
    sampling = cohort.sampling[pairs[0]]
    assert (per_day[~sampling] == 1).all()
    assert (per_day[sampling] >= 2).all() and per_day[sampling].max() == 4
    assert 0.1 < cohort.sampling.mean() < 0.3
    # On a day with several, the times differ and run in order; sleep is asked only the first time.
    member = np.nonzero(cohort.sampling)[0][0]
    day = c.day[c.member == member][0]
    rows = np.nonzero((c.member == member) & (c.day == day))[0]
    assert len(rows) >= 2 and (np.diff(c.minute[rows]) > 0).all()
    assert not np.isnan(c.sleep_hours[rows[0]]) and np.isnan(c.sleep_hours[rows[1:]]).all()


def test_mix_and_ground_truth():
    calm = synthetic.generate(20, 30, seed=1, start_date=START, mix={"stable": 1})
    assert {truth.trajectory for truth in calm.truth()} == {"stable"}
    assert all(truth.onset_day is None for truth in calm.truth())
    crises = synthetic.generate(20, 100, seed=1, start_date=START, mix={"sudden_crisis": 1})
    assert all(35 <= truth.onset_day < 85 for truth in crises.truth())
    with pytest.raises(ValueError, match="unknown trajectories"):
        synthetic.generate(5, 10, seed=1, start_date=START, mix={"relapse": 1})
    default = synthetic.generate(2000, 10, seed=1, start_date=START)
    shares = np.bincount(default.trajectory, minlength=5) / 2000
    assert shares[synthetic.STABLE] + shares[synthetic.IMPROVING] > 0.6 and (shares > 0.04).all()


def test_large_cohorts_are_generated_in_blocks():
    blocks = list(synthetic.generate_chunks(2500, 30, seed=4, start_date=START, chunk_size=1000))
    assert [block.n_members for block in blocks] == [1000, 1000, 500]
    assert [block.first_member for block in blocks] == [0, 1000, 2000]
    assert all(block.checkins.member.max() < block.n_members for block in blocks)
    again = list(synthetic.generate_chunks(2500, 30, seed=4, start_date=START, chunk_size=1000))
    np.testing.assert_array_equal(blocks[2].checkins.mood, again[2].checkins.mood)
    assert not np.array_equal(blocks[0].negative_affect, blocks[1].negative_affect)


@pytest.mark.django_db
def test_load_writes_checkins_tags_responses_and_truth(organisation):
    cohort = synthetic.generate(4, 40, seed=3, start_date=START, sampling_share=0.5, time_zone="America/New_York")
    members = [make_member(organisation, time_zone="America/New_York") for _ in range(3)]
    members.append(make_member(organisation, time_zone="Europe/London"))  # placed in their own zone
    calls = []
    loaded = synthetic.load(cohort, members, progress=lambda done, total: calls.append((done, total)), batch_size=50)

    total = len(cohort.checkins) + len(cohort.responses)
    assert calls[0] == (0, total) and calls[-1] == (total, total) and len(calls) > 2
    assert loaded.checkins == CheckIn.objects.count() == len(cohort.checkins)
    assert loaded.responses == QuestionnaireResponse.objects.count() == len(cohort.responses)
    for position, member in enumerate(members):
        stored = CheckIn.objects.filter(member=member)
        assert stored.count() == (cohort.checkins.member == position).sum()
        assert set(stored.values_list("source", flat=True)) == {"synthetic"}
        zone = ZoneInfo(member.time_zone)
        for checkin in stored:
            assert checkin.recorded_at.astimezone(zone).date() == checkin.local_date
            assert checkin.note == ""
        tags = CheckIn.tags.through.objects.filter(checkin__member=member)
        bits = sum(bin(mask).count("1") for mask in cohort.checkins.activities[cohort.checkins.member == position])
        assert tags.count() == bits
        assert not tags.exclude(tag__member=member).exists()
        truth = SyntheticTruth.objects.get(member=member)
        expected = cohort.truth()[position]
        assert (truth.trajectory, truth.onset_day, truth.start_date, truth.seed) == (
            expected.trajectory,
            expected.onset_day,
            START,
            3,
        )
    assert loaded.tags == CheckIn.tags.through.objects.count()

    for response in QuestionnaireResponse.objects.all():
        answers = {int(item): value for item, value in response.answers.items()}
        score = instruments.score(instruments.get(response.instrument), answers)
        assert (response.total, response.band, response.is_case) == (score.total, score.band, score.is_case)
        assert response.source == "synthetic" and response.complete

    with pytest.raises(ValueError, match="already have synthetic data"):
        synthetic.load(cohort, members)
    with pytest.raises(ValueError, match="4 members"):
        synthetic.load(cohort, members[:2])


@pytest.mark.django_db
def test_synthesize_creates_members_and_their_data(organisation):
    admin = make_staff(organisation, Role.ORG_ADMIN)
    program = program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")
    out = StringIO()
    call_command(
        "synthesize",
        organisation=organisation.slug,
        members=3,
        days=30,
        seed=9,
        program="aftercare",
        stdout=out,
    )
    people = User.objects.filter(email__startswith="synthetic-").order_by("email")
    assert [person.email for person in people] == [
        f"synthetic-{number:04d}@{organisation.slug}.example" for number in (1, 2, 3)
    ]
    assert len({person.display_name for person in people}) == 3
    for person in people:
        assert not person.has_usable_password()
        assert Role.MEMBER in person.roles_in(organisation)
        assert person.time_zone == organisation.time_zone
        enrolment = Enrolment.objects.get(member=person, program=program)
        assert enrolment.discharge_date == person.synthetic_truth.start_date
        assert person.checkins.exists()
    assert SyntheticTruth.objects.count() == 3
    summary = out.getvalue()
    assert "Created 3 synthetic members" in summary and "check-ins" in summary and " s" in summary
    assert "\r" not in summary  # no progress bar when the output is not a terminal

    call_command("synthesize", organisation=organisation.slug, members=1, days=5, stdout=StringIO())
    assert User.objects.filter(email=f"synthetic-0004@{organisation.slug}.example").exists()


@pytest.mark.django_db
def test_synthesize_refuses_an_unknown_organisation_or_program(organisation):
    with pytest.raises(CommandError, match="no organisation 'nowhere'"):
        call_command("synthesize", organisation="nowhere", members=1, days=5, stdout=StringIO())
    with pytest.raises(CommandError, match="no program 'Nothing'"):
        call_command(
            "synthesize", organisation=organisation.slug, members=1, days=5, program="Nothing", stdout=StringIO()
        )
    assert not User.objects.filter(email__startswith="synthetic-").exists()
