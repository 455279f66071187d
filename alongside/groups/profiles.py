"""How people appear in discussions. Members choose a pseudonym per organisation (their real name is never shown
to other members); staff appear under their own name and role. Everyone accepts the community guidelines
(templates/groups/guidelines.html) before their first post; a new version of the guidelines asks again."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import STAFF_ROLES, OrgRole
from alongside.groups.models import CommunityProfile

GUIDELINES_VERSION = 1
PSEUDONYM = re.compile(r"^[\w][\w .'-]{1,38}[\w.]$")


def profile_of(person, organisation) -> CommunityProfile | None:
    return CommunityProfile.objects.filter(person=person, organisation=organisation).first()


def has_accepted_guidelines(person, organisation) -> bool:
    profile = profile_of(person, organisation)
    return profile is not None and (profile.guidelines_version or 0) >= GUIDELINES_VERSION


def is_staff_in(person, organisation) -> bool:
    return OrgRole.objects.filter(user=person, organisation=organisation, role__in=STAFF_ROLES).exists()


def save_profile(person, organisation, *, pseudonym: str, accept_guidelines: bool) -> CommunityProfile:
    """Choose (or change) a pseudonym and accept the guidelines. Pseudonyms are unique in the organisation,
    ignoring case; a member's real name or e-mail is refused so nobody gives themselves away by accident. Staff
    appear under their own name and role, so they only accept the guidelines (their pseudonym is never shown)."""
    staff = is_staff_in(person, organisation)
    pseudonym = f"staff-{person.pk}" if staff else " ".join((pseudonym or "").split())
    errors = {}
    if staff:
        pass
    elif not PSEUDONYM.match(pseudonym):
        errors["pseudonym"] = _(
            "Use 3 to 40 letters, digits, spaces, dots, hyphens or apostrophes, starting with a letter or digit."
        )
    elif pseudonym.lower() in {person.display_name.lower(), person.email.lower(), person.email.split("@")[0].lower()}:
        errors["pseudonym"] = _("Choose a name other than your own, so that only people you tell know it is you.")
    if not accept_guidelines:
        errors["accept_guidelines"] = _("Please read and accept the community guidelines.")
    if not errors:
        taken = CommunityProfile.objects.annotate(lowered=Lower("pseudonym")).filter(
            organisation=organisation, lowered=pseudonym.lower()
        )
        if taken.exclude(person=person).exists():
            errors["pseudonym"] = _("Someone already uses that name here. Choose another.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            profile, _created = CommunityProfile.objects.update_or_create(
                person=person,
                organisation=organisation,
                defaults={
                    "pseudonym": pseudonym,
                    "guidelines_version": GUIDELINES_VERSION,
                    "guidelines_accepted_at": timezone.now(),
                },
            )
    except IntegrityError:
        raise ValidationError({"pseudonym": _("Someone already uses that name here. Choose another.")}) from None
    return profile


def shown_names(people, organisation) -> dict[int, str]:
    """How each person appears in the organisation's discussions, for many people in two queries: staff by
    their own name and role, members by their pseudonym ("A member" if they have none yet)."""
    ids = {getattr(person, "pk", person) for person in people}
    staff_roles: dict[int, list[str]] = {}
    for user_id, role, label in OrgRole.objects.filter(
        user__in=ids, organisation=organisation, role__in=STAFF_ROLES
    ).values_list("user", "role", "user__display_name"):
        staff_roles.setdefault(user_id, [label]).append(OrgRole(role=role).get_role_display())
    pseudonyms = dict(
        CommunityProfile.objects.filter(person__in=ids, organisation=organisation).values_list("person", "pseudonym")
    )
    names = {}
    for person_id in ids:
        if person_id in staff_roles:
            label, *roles = staff_roles[person_id]
            names[person_id] = f"{label} ({', '.join(sorted(roles))})"
        else:
            names[person_id] = pseudonyms.get(person_id) or _("A member")
    return names
