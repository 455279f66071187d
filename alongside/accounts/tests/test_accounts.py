import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from alongside.accounts import actions
from alongside.accounts.models import Role, User


@pytest.mark.django_db
def test_new_organisation_takes_its_countrys_crisis_defaults():
    organisation = actions.create_organisation("Harbour", "GB", time_zone="Europe/London")
    assert organisation.emergency_number == "999"
    assert [line["name"] for line in organisation.crisis_lines] == ["Samaritans", "NHS 111 (England)"]
    assert organisation.crisis_lines[0]["phone"] == "116 123"


@pytest.mark.django_db
def test_organisation_slugs_stay_unique():
    first = actions.create_organisation("Riverside", "US")
    second = actions.create_organisation("Riverside", "US")
    assert first.slug == "riverside"
    assert second.slug == "riverside-2"


@pytest.mark.django_db
def test_unknown_country_or_time_zone_is_refused():
    with pytest.raises(KeyError):
        actions.create_organisation("Nowhere", "XX")
    with pytest.raises(ValidationError):
        actions.create_organisation("Somewhere", "US", time_zone="Mars/Olympus")


@pytest.mark.django_db
def test_email_is_unique_whatever_its_case():
    actions.create_person("Sam@Example.org", "Sam", "pw-123456789")
    assert User.objects.get().email == "sam@example.org"
    with pytest.raises((ValidationError, IntegrityError)):
        actions.create_person("SAM@example.org", "Other Sam", "pw-123456789")


@pytest.mark.django_db
def test_people_may_hold_several_roles_in_several_organisations(organisation, other_organisation):
    person = actions.create_person("peer@example.org", "Peer", None)
    actions.grant_role(person, organisation, Role.MEMBER)
    actions.grant_role(person, organisation, Role.PEER_MENTOR)
    actions.grant_role(person, other_organisation, Role.MEMBER)
    actions.grant_role(person, organisation, Role.MEMBER)  # granting twice changes nothing
    assert person.org_roles.count() == 3
    assert person.roles_in(organisation) == {"member", "peer_mentor"}
    assert person.is_member and person.is_care_staff


def test_production_hashes_passwords_with_argon2(settings):
    from alongside import settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    from django.contrib.auth.hashers import make_password

    assert identify_hasher(make_password("a long passphrase")).algorithm == "argon2"


def test_revoking_a_token_that_is_not_mine_answers_a_described_404(client_for, member, staff):
    from alongside.accounts import tokens
    from alongside.api import api

    theirs, _raw = tokens.issue(staff, name="theirs", scopes=["read"])
    response = client_for(member).delete(f"/api/v1/tokens/{theirs.pk}")
    assert response.status_code == 404
    assert 404 in api.get_openapi_schema()["paths"]["/api/v1/tokens/{token_id}"]["delete"]["responses"]
