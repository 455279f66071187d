"""Program outcomes: aggregates computed by hand on a small cohort, small cells held back, the CSV, and only
the organisation's admins."""

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.monitoring import checkins, questionnaires
from alongside.programs import actions as program_actions
from alongside.programs.models import Enrolment
from alongside.testing.factories import make_member, make_staff, signed_in_client
from alongside.web import outcomes

pytestmark = pytest.mark.django_db


def phq9(total: int) -> dict[int, int]:
    """PHQ-9 answers summing to `total` (item 9 always 0)."""
    answers, left = {}, total
    for item in range(1, 9):
        answers[item] = min(3, left)
        left -= answers[item]
    return answers | {9: 0}


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN)


@pytest.fixture
def program(admin, organisation):
    return program_actions.create_program(by=admin, organisation=organisation, name="Aftercare")


def enrol(admin, program, organisation, count, *, discharged_days_ago=None, name="M"):
    people = []
    for index in range(count):
        member = make_member(organisation, display_name=f"{name}{index}")
        program_actions.enrol(by=admin, program=program, member=member)
        if discharged_days_ago is not None:
            Enrolment.objects.filter(member=member, program=program).update(
                discharge_date=timezone.localdate() - timedelta(days=discharged_days_ago),
                enrolled_at=timezone.now() - timedelta(days=discharged_days_ago + 10),
            )
        people.append(member)
    return people


def checkin_on(member, day):
    checkins.record(member, mood=6, recorded_at=datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone()))


def test_retention_and_activity_by_hand(admin, program, organisation):
    today = timezone.localdate()
    # Twelve members discharged 40 days ago: six checked in 25 days after discharge, six never did.
    cohort = enrol(admin, program, organisation, 12, discharged_days_ago=40)
    for member in cohort[:6]:
        checkin_on(member, today - timedelta(days=40) + timedelta(days=25))
    result = outcomes.outcomes_for(program)
    assert result.enrolled == 12
    assert result.active == outcomes.Share(6, 12)
    assert dict(result.retention)[30] == outcomes.Share(6, 12) and dict(result.retention)[30].percent == 50.0
    # Nobody was discharged 90 days ago: nothing to count (not zero per cent).
    assert dict(result.retention)[90] == outcomes.Share(0, 0) and dict(result.retention)[90].percent is None
    # Adherence: six members on 1 of 30 days, six on none: the median member (between 1 and 0 days) 1.7%.
    assert result.adherence_median == pytest.approx(100 * 0.5 / 30, abs=0.05)


def test_small_cells_are_held_back():
    assert outcomes.Share.of_people(3, 4) == outcomes.Share(None, None)  # about 4 people in all
    assert outcomes.Share.of_people(2, 40) == outcomes.Share(None, 40)  # 2 people
    assert outcomes.Share.of_people(37, 40) == outcomes.Share(None, 40, left_out_small=True)  # 3 left out
    assert outcomes.Share.of_people(0, 40) == outcomes.Share(0, 40)  # nobody: not a person to point at
    assert outcomes.Share.of_people(40, 40) == outcomes.Share(40, 40)
    assert outcomes.Share.of_people(5, 10).percent == 50.0


def test_questionnaire_change_counts_reliable_improvement_deterioration_and_recovery(admin, program, organisation):
    people = enrol(admin, program, organisation, 12)
    now = timezone.now()
    plans = {
        # first, latest: 5 reliably improved (15 -> 7: from a case to not), 5 deteriorated (4 -> 12), 2 unchanged
        **{index: (15, 7) for index in range(5)},
        **{index: (4, 12) for index in range(5, 10)},
        **{index: (8, 9) for index in range(10, 12)},
    }
    for index, (first, latest) in plans.items():
        questionnaires.submit(people[index], "phq9", phq9(first), completed_at=now - timedelta(days=20))
        questionnaires.submit(people[index], "phq9", phq9(13), completed_at=now - timedelta(days=10))
        questionnaires.submit(people[index], "phq9", phq9(latest), completed_at=now - timedelta(days=1))
    change = outcomes.outcomes_for(program).changes[0]
    assert change.instrument == "phq9" and change.members == 12
    assert change.improved == outcomes.Share(5, 12) and change.deteriorated == outcomes.Share(5, 12)
    assert change.recovered == outcomes.Share(5, 5)  # all five who were a case at first and reliably improved
    assert change.mean_change == pytest.approx((5 * -8 + 5 * 8 + 2 * 1) / 12, abs=0.05)
    gad7 = outcomes.outcomes_for(program).changes[1]
    assert gad7.members == 0 and gad7.improved == outcomes.Share(0, 0) and gad7.mean_change is None


def test_the_page_and_csv_are_for_the_organisations_admins_only(admin, program, organisation, outsider):
    # Named so that no random token on the page can contain the name by chance.
    enrol(admin, program, organisation, 3, discharged_days_ago=40, name="Enrolled Member ")
    url = reverse("web:outcomes", args=[organisation.slug])
    page = signed_in_client(admin).get(url).content.decode()
    assert "fewer than 5: held back" in page and "<svg" in page
    assert "Enrolled Member" not in page  # aggregates only: no member is named
    response = signed_in_client(admin).get(url, {"program": program.pk, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == ["Program", "As of", "Measure", "Value", "Of"]
    enrolled = next(row for row in table if row[2] == "Members enrolled now")
    assert enrolled[3] == "fewer than 5: held back"
    assert AuditEvent.objects.filter(actor=admin, category="outcomes").count() == 2
    clinician = make_staff(organisation, Role.CLINICIAN)
    for person in (clinician, outsider):
        assert signed_in_client(person).get(url).status_code == 404
