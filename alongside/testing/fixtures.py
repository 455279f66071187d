"""The three kinds of people every test of access starts from: a member, a staff member of the same
organisation, and an outsider (staff of another organisation)."""

from __future__ import annotations

import os
import uuid

import pytest

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
    return factories.signed_in_client


@pytest.fixture
def own_postgres_database():
    """The URL of a database of its own on the PostgreSQL server the suite runs against, dropped afterwards, for tests
    that start servers and workers of their own (skips on SQLite)."""
    base = os.environ.get("ALONGSIDE_DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass of make test (ALONGSIDE_DATABASE_URL)")
    import psycopg

    name = f"alongside_faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
