"""The named writes for people and organisations. Views, the API, the CLI and the demo seed all call these."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from alongside.accounts.models import Organisation, OrgRole, Role, User
from alongside.core import crisis


@transaction.atomic
def create_organisation(name: str, country: str, *, time_zone: str = "UTC", slug: str | None = None) -> Organisation:
    """A new organisation, with the emergency number and crisis lines of its country as editable defaults."""
    defaults = crisis.defaults_for(country)
    base = slug or slugify(name)[:50] or "organisation"
    candidate, suffix = base, 2
    while Organisation.objects.filter(slug=candidate).exists():
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    organisation = Organisation(
        name=name,
        slug=candidate,
        country=defaults.code,
        time_zone=time_zone,
        emergency_number=defaults.emergency_number,
        emergency_note=str(defaults.emergency_note),
        crisis_lines=[line.as_dict() for line in defaults.lines],
    )
    organisation.full_clean()
    organisation.save()
    return organisation


def create_person(email: str, display_name: str, password: str | None, *, time_zone: str = "UTC") -> User:
    return User.objects.create_user(email, password, display_name=display_name, time_zone=time_zone)


def grant_role(user: User, organisation: Organisation, role: Role | str) -> OrgRole:
    grant, _created = OrgRole.objects.get_or_create(user=user, organisation=organisation, role=Role(role))
    return grant
