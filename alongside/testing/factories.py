"""Factories that build through the domain functions, so tests create data the way the product does."""

from __future__ import annotations

import itertools

from alongside.accounts import actions
from alongside.accounts.models import Organisation, Role, User

PASSWORD = "correct horse battery staple"  # noqa: S105 (test credential)
_numbers = itertools.count(1)


def make_organisation(
    name: str | None = None,
    *,
    country: str = "US",
    time_zone: str = "America/New_York",
) -> Organisation:
    return actions.create_organisation(name or f"Program {next(_numbers)}", country, time_zone=time_zone)


def make_person(
    organisation: Organisation | None = None,
    *roles: Role,
    display_name: str | None = None,
    email: str | None = None,
    time_zone: str = "America/New_York",
) -> User:
    number = next(_numbers)
    user = actions.create_person(
        email or f"person{number}@example.org", display_name or f"Person {number}", PASSWORD, time_zone=time_zone
    )
    for role in roles:
        actions.grant_role(user, organisation, role)
    return user


def make_member(organisation: Organisation, **kwargs) -> User:
    return make_person(organisation, Role.MEMBER, **kwargs)


def make_staff(organisation: Organisation, role: Role = Role.CLINICIAN, **kwargs) -> User:
    return make_person(organisation, role, **kwargs)


def support(staff: User, member: User, organisation: Organisation, role: Role = Role.CLINICIAN, **kwargs):
    """`staff` supports `member`, added by the staff member themselves or, for other roles, an org admin."""
    from alongside.care import actions as care_actions

    by = staff if role in (Role.CLINICIAN, Role.CASE_MANAGER) else make_staff(organisation, Role.ORG_ADMIN)
    return care_actions.add_supporter(by=by, organisation=organisation, member=member, staff=staff, role=role, **kwargs)


def signed_in_client(user: User, *, second_factor: bool = True):
    """A test client signed in as `user`, past the second factor where one is required (unless told not to)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from alongside.accounts import two_factor

    client = Client()
    client.force_login(user)
    if second_factor and two_factor.required_for(user):
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
