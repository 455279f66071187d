"""The bulk loader for benchmarks (bench/dataset.py): a small world, loaded the way the big one is, must be one
the product works with: people sign in with the documented password, pages render, consent lets the right
supporters see the right things."""

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from alongside.accounts.models import OrgRole, Role, User
from alongside.care import policy
from alongside.care.models import DEFAULT_SHARING, CareRelationship, Category
from alongside.monitoring import instruments, synthetic
from alongside.monitoring.models import CheckIn, QuestionnaireResponse, SyntheticTruth
from alongside.programs.models import Enrolment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import dataset

pytestmark = pytest.mark.django_db

SHAPE = dataset.Shape(members=30, days=20, staff=3, seed=11, chunk=12)


@pytest.fixture
def loaded(db):
    return dataset.load(SHAPE)


def person(email: str) -> User:
    return User.objects.get(email=email)


def sign_in(client: Client, email: str):
    return client.post(reverse("accounts:login"), {"username": email, "password": dataset.PASSWORD})


def test_the_world_has_what_was_asked_for(loaded):
    roles = dict(OrgRole.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {Role.MEMBER: 30, Role.CLINICIAN: 1, Role.CASE_MANAGER: 1, Role.PEER_MENTOR: 1, Role.ORG_ADMIN: 1}
    assert User.objects.count() == 34 == loaded.rows["accounts_user"] + 1  # the admin through the domain function
    assert Enrolment.objects.filter(ended_at=None).count() == 30
    assert SyntheticTruth.objects.count() == 30
    # Each supporter has a caseload of 20, in their own role, with that role's default consent.
    per_staff = CareRelationship.objects.values("staff", "role").annotate(n=Count("member", distinct=True))
    assert sorted(row["n"] for row in per_staff) == [20, 20, 20]
    assert all(r.role in r.staff.roles_in(r.organisation) for r in CareRelationship.objects.all())
    for relationship in CareRelationship.objects.prefetch_related("consent_grants"):
        categories, safety_alerts = DEFAULT_SHARING[relationship.role]
        assert relationship.shared_categories == set(categories)
        assert relationship.safety_alerts == safety_alerts
    assert not User.objects.filter(org_roles__role=Role.MEMBER, supported_by=None).exists()

    # The check-ins and questionnaires are the generator's, each on its member's local calendar.
    assert generated(SyntheticTruth.objects.first().start_date) == written()
    assert CheckIn.objects.filter(member__email="member1@bench.example").exists()
    for checkin in CheckIn.objects.select_related("member")[:200]:
        assert checkin.local_date == checkin.recorded_at.astimezone(ZoneInfo(checkin.member.time_zone)).date()
    assert CheckIn.objects.filter(tags__label=dataset.WARNING_SIGN, cravings__lt=dataset.SIGN_CRAVINGS).count() == 0
    responses = QuestionnaireResponse.objects.all()
    assert responses.count() == loaded.rows["monitoring_questionnaireresponse"] > 0
    for response in responses:
        answers = {int(item): value for item, value in response.answers.items()}
        score = instruments.score(instruments.get(response.instrument), answers)
        assert (response.raw_score, response.total, response.band, response.is_case, response.safety_items) == (
            score.raw, score.total, score.band, score.is_case, score.safety_items
        )  # fmt: skip


def generated(start_date) -> tuple[int, int, int]:
    """Check-ins, tag links and questionnaire responses the generator gives for SHAPE."""
    checkins = links = responses = 0
    for cohort in synthetic.generate_chunks(30, 20, seed=11, start_date=start_date, chunk_size=12):
        c = cohort.checkins
        checkins += len(c)
        links += sum(int(mask).bit_count() for mask in c.activities.tolist())
        links += int((c.cravings >= dataset.SIGN_CRAVINGS).sum())
        responses += len(cohort.responses)
    return checkins, links, responses


def written() -> tuple[int, int, int]:
    return CheckIn.objects.count(), CheckIn.tags.through.objects.count(), QuestionnaireResponse.objects.count()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_same_world_is_written(db):
    """Outside a transaction, PostgreSQL's rows are written by a background connection, block by block."""
    loaded = dataset.load(SHAPE)
    assert written() == generated(SyntheticTruth.objects.first().start_date)
    assert loaded.rows["monitoring_checkin"] == CheckIn.objects.count()
    assert User.objects.count() == 34 and CareRelationship.objects.count() == 60
    assert not CheckIn.objects.exclude(member__org_roles__role=Role.MEMBER).exists()


def test_a_member_signs_in_with_the_documented_password_and_sees_their_history(loaded):
    client = Client()
    assert sign_in(client, "member1@bench.example").status_code == 302
    page = client.get(reverse("monitoring:history"))
    assert page.status_code == 200
    mine = CheckIn.objects.filter(member=person("member1@bench.example")).count()
    assert page.context["page"].paginator.count == mine > 0


def test_a_clinician_passes_the_second_factor_with_the_documented_key_and_sees_their_caseload(loaded):
    clinician = person("clinician1@bench.example")
    client = Client()
    assert sign_in(client, clinician.email).status_code == 302
    code = f"{TOTP(bytes.fromhex(dataset.STAFF_TOTP_KEY)).token():06d}"
    assert client.post(reverse("accounts:two_factor"), {"code": code}).status_code == 302
    page = client.get(reverse("web:caseload"))
    assert page.status_code == 200
    text = page.content.decode()
    theirs = User.objects.filter(supported_by__staff=clinician)
    assert theirs.count() == 20
    assert all(f">{member.display_name}<" in text for member in theirs)
    others = User.objects.filter(org_roles__role=Role.MEMBER).exclude(supported_by__staff=clinician)
    assert others.exists()
    assert not any(f">{member.display_name}<" in text for member in others)
    assert client.get(reverse("web:member_record", args=[theirs.first().pk])).status_code == 200
    assert client.get(reverse("web:member_record", args=[others.first().pk])).status_code == 404


def test_consent_lets_each_supporter_see_what_their_role_sees_by_default(loaded):
    clinician = person("clinician1@bench.example")
    mentor = person("peer-mentor1@bench.example")
    clinicians_member = User.objects.filter(supported_by__staff=clinician).first()
    mentors_member = User.objects.filter(supported_by__staff=mentor).first()
    assert policy.can(clinician, "view", clinicians_member, Category.CHECKINS)
    assert not policy.can(clinician, "view", clinicians_member, Category.JOURNAL)
    assert policy.can(mentor, "view", mentors_member, Category.ENGAGEMENT)
    assert not policy.can(mentor, "view", mentors_member, Category.CHECKINS)
    strangers = User.objects.filter(org_roles__role=Role.MEMBER).exclude(supported_by__staff=clinician)
    assert not policy.can(clinician, "view", strangers.first(), Category.CHECKINS)


def test_loading_into_a_database_that_has_people_is_refused(loaded):
    before = User.objects.count(), CheckIn.objects.count()
    with pytest.raises(dataset.DatasetError, match="already has people"):
        dataset.load(SHAPE)
    assert (User.objects.count(), CheckIn.objects.count()) == before
