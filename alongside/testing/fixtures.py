"""The three kinds of people every test of access starts from: a member, a staff member of the same
organisation, and an outsider (staff of another organisation)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.testing import factories


@pytest.fixture
def organisation(db):
    return factories.make_organisation("Riverside Test Program")


@pytest.fixture
def other_organisation(db):
    return factories.make_organisation("Harbour Test Clinic", country="GB", time_zone="Europe/London")


@pytest.fixture
def member(organisation):
    return factories.make_member(organisation, display_name="Test Member")


@pytest.fixture
def staff(organisation):
    return factories.make_staff(organisation, Role.CLINICIAN, display_name="Test Clinician")


@pytest.fixture
def relationship(staff, member, organisation):
    """`staff` supports `member` as clinician, with the clinician's default sharing."""
    return factories.support(staff, member, organisation, Role.CLINICIAN)


@pytest.fixture
def outsider(other_organisation):
    return factories.make_staff(other_organisation, Role.CLINICIAN, display_name="Outside Clinician")


@pytest.fixture
def client_for(db):
    """client_for(user) -> a test client signed in as that person, past the second factor where one is
    required (pass second_factor=False to stop after the password)."""

    def signed_in(user, *, second_factor: bool = True) -> Client:
        client = Client()
        client.force_login(user)
        if second_factor and two_factor.required_for(user):
            device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return signed_in
