"""The named writes for people and organisations. Views, the API, the CLI and the demo seed all call these."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from alongside.accounts.models import Organisation, OrgRole, Role, User, validate_time_zone
from alongside.accounts.signals import time_zone_changed
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
    user.forget_roles()
    return grant


ORGANISATION_SETTINGS = (
    "name",
    "country",
    "time_zone",
    "emergency_number",
    "emergency_note",
    "crisis_lines",
    "support_contact",
)


def organisation_settings(organisation: Organisation) -> dict:
    return {field: getattr(organisation, field) for field in ORGANISATION_SETTINGS}


@transaction.atomic
def update_organisation(*, by: User, organisation: Organisation, request=None, **values) -> Organisation:
    """Change an organisation's settings (org admins only). Crisis lines each need a number to call or text."""
    from alongside.accounts.models import admin_organisations
    from alongside.accounts.versioning import save_version

    if not admin_organisations(by).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    unknown = set(values) - set(ORGANISATION_SETTINGS)
    if unknown:
        raise ValueError(f"not organisation settings: {', '.join(sorted(unknown))}")
    lines = values.get("crisis_lines", organisation.crisis_lines)
    cleaned_lines = []
    for position, line in enumerate(lines, start=1):
        line = {key: str(line.get(key, "")).strip() for key in ("name", "phone", "text", "note")}
        if not any(line.values()):
            continue
        if not line["name"]:
            raise ValidationError({"crisis_lines": _("Crisis line %(n)s needs a name.") % {"n": position}})
        if not (line["phone"] or line["text"]):
            raise ValidationError(
                {"crisis_lines": _("%(name)s needs a number to call or to text.") % {"name": line["name"]}}
            )
        cleaned_lines.append(line)
    values["crisis_lines"] = cleaned_lines
    before = organisation_settings(organisation)
    for field, value in values.items():
        setattr(organisation, field, value.strip() if isinstance(value, str) else value)
    if not organisation.emergency_number.strip():
        raise ValidationError({"emergency_number": _("Give the emergency number people should call.")})
    organisation.full_clean()
    organisation.save()
    save_version(
        by=by,
        organisation=organisation,
        subject=f"organisation:{organisation.pk}",
        before=before,
        after=organisation_settings(organisation),
        request=request,
    )
    return organisation


MAX_CONTACT_DETAILS = User._meta.get_field("contact_details").max_length


def set_contact_details(person: User, text: str) -> User:
    """A person says how and when the members they support can reach them (shown on the members' care network
    page). Only the person themselves changes it; empty means nothing is shown."""
    text = "\n".join(line.strip() for line in str(text or "").replace("\r\n", "\n").strip().splitlines())
    if "\x00" in text:
        raise ValidationError({"contact_details": _("This text contains a character that cannot be stored.")})
    if len(text) > MAX_CONTACT_DETAILS:
        raise ValidationError(
            {
                "contact_details": _("Keep this under %(limit)s characters (it has %(n)s).")
                % {"limit": MAX_CONTACT_DETAILS, "n": len(text)}
            }
        )
    if person.contact_details != text:
        person.contact_details = text
        person.save(update_fields=["contact_details"])
    return person


def end_all_sessions(user: User) -> None:
    """End every session and API token of this person, on every device, now (the counter is part of each
    session's signature)."""
    from django.db.models import F

    from alongside.accounts.tokens import revoke_all

    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    revoke_all(user)


def set_time_zone(person: User, zone: str) -> User:
    """A person moved (or travels for a while): their local dates and schedules follow the new zone."""
    zone = str(zone or "").strip()
    validate_time_zone(zone)
    old = person.time_zone
    if old != zone:
        with transaction.atomic():
            person.time_zone = zone
            person.save(update_fields=["time_zone"])
            time_zone_changed.send(sender=User, person=person, old=old, new=zone)
    return person
