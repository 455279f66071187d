"""A program's goal areas ("key: Name" lines) and celebration days (a comma list) on the program form."""

import pytest
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.programs import actions
from alongside.testing.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN)


@pytest.fixture
def program(admin, organisation):
    return actions.create_program(by=admin, organisation=organisation, name="Aftercare")


def _post(client_for, admin, program, **changes):
    url = reverse("programs:edit", args=[program.organisation.slug, program.pk])
    client = client_for(admin)
    form = client.get(url).context["form"]
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(changes)
    return client.post(url, data)


def _errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


def test_the_form_shows_and_saves_goal_areas_and_celebration_days(client_for, admin, program):
    url = reverse("programs:edit", args=[program.organisation.slug, program.pk])
    initial = client_for(admin).get(url).context["form"].initial
    assert "health: Health" in initial["goal_areas"].splitlines()
    assert initial["celebration_days"] == "7, 30, 60, 90, 180, 365"
    response = _post(
        client_for, admin, program, goal_areas="health: Health\n\nfamily_life:  Family life\n",
        celebration_days="365, 14, 100",
    )  # fmt: skip
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.settings["goal_areas"] == {"health": "Health", "family_life": "Family life"}
    assert program.settings["celebration_days"] == [14, 100, 365]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("celebration_days", "0, 30", "greater than or equal to 1"),
        ("celebration_days", "7, soon", "Give whole numbers of days"),
        ("celebration_days", " , ", "Give at least one day."),
        ("goal_areas", "social life: Social life", "goal area keys are lower-case letters, digits and _"),
        ("goal_areas", "Health", "Write each area as key: Name"),
        ("goal_areas", "work: Work\nwork: Jobs", "listed twice"),
    ],
)
def test_bad_goal_settings_are_rejected_naming_the_field(client_for, admin, program, field, value, message):
    response = _post(client_for, admin, program, **{field: value})
    assert response.status_code == 400
    assert any(message in error for error in _errors(response, field)), response.context["form"].errors
    program.refresh_from_db()
    assert program.settings["celebration_days"] == [7, 30, 60, 90, 180, 365]
    assert "work" in program.settings["goal_areas"] and "social life" not in program.settings["goal_areas"]
