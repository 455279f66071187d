"""The aftercare and safety plan: its sections, its versions, sign-off and the differences between versions.

The sections combine a wellness and recovery action plan (after Copeland's WRAP: wellness toolbox, daily
maintenance, triggers, early warning signs, when things are breaking down, crisis plan, post-crisis plan) with
the steps of a safety plan (after Stanley and Brown's Safety Planning Intervention, 2012) and the program's
aftercare services. Plain section names are used on screen; the sources are named in docs/plans.md.

Every save is a new, immutable version. A save names the version it started from; if someone saved in the
meantime the save is refused as stale (`StalePlan`) and the person is shown what changed, so nobody's edits
are silently overwritten. The plan's early warning signs become the member's warning-sign check-in tags
(monitoring listens for `plan_saved`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.care import policy
from alongside.care.models import AftercarePlan, Category, PlanSignOff, PlanVersion, SignOffRole
from alongside.care.plan_sections import CONTACTS, LINES, PAIRS, SECTION_BY_KEY, SECTIONS, TEXT, Section

MAX_ITEMS = 40
MAX_LINE = 300
MAX_TEXT = 4000
MAX_SIGN = 60  # an early warning sign is also a check-in tag
MAX_NAME = 100
MAX_PHONE = 32
# Loose on purpose: people write numbers in many ways. Digits, spaces, a leading +, and - ( ) . between.
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]*$")


def sections_in(group: str) -> list[Section]:
    return [section for section in SECTIONS if section.group == group]


def empty_content() -> dict:
    return {section.key: "" if section.kind == TEXT else [] for section in SECTIONS}


def _clean_text(value, limit: int, where: str, errors: dict) -> str:
    text = str(value if value is not None else "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        errors[where] = _("This text contains a character that cannot be stored.")
    elif len(text) > limit:
        errors[where] = _("Keep this under %(limit)s characters (it has %(n)s).") % {"limit": limit, "n": len(text)}
    return text


def clean_content(raw: dict) -> dict:
    """The plan content from untrusted input (a form or the API): known sections only, trimmed, within limits.

    Raises ValidationError naming each field (e.g. "help_contacts.0.phone") with a message for a person."""
    if not isinstance(raw, dict):
        raise ValidationError({"content": _("The plan must be an object of sections.")})
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - set(SECTION_BY_KEY))
    if unknown:
        errors["content"] = _("Unknown sections: %(names)s.") % {"names": ", ".join(unknown)}
    content = empty_content()
    for section in SECTIONS:
        value = raw.get(section.key)
        if value in (None, ""):
            continue
        if section.kind == TEXT:
            content[section.key] = _clean_text(value, MAX_TEXT, section.key, errors)
            continue
        if not isinstance(value, list):
            errors[section.key] = _("Give a list.")
            continue
        if len(value) > MAX_ITEMS:
            errors[section.key] = _("Keep this to %(n)s items or fewer.") % {"n": MAX_ITEMS}
            continue
        items = []
        for index, item in enumerate(value):
            where = f"{section.key}.{index}"
            if section.kind == LINES:
                line = _clean_text(item, MAX_LINE, where, errors)
                if line:
                    items.append(line)
            elif section.kind == PAIRS:
                item = item if isinstance(item, dict) else {"item": item}
                limit = MAX_SIGN if section.key == "early_warning_signs" else MAX_LINE
                first = " ".join(_clean_text(item.get("item"), limit, f"{where}.item", errors).split())
                response = _clean_text(item.get("response"), MAX_LINE, f"{where}.response", errors)
                if response and not first:
                    errors[f"{where}.item"] = _("Say what this is about, or leave the row empty.")
                if first:
                    items.append({"item": first, "response": response})
            else:
                item = item if isinstance(item, dict) else {"name": item}
                name = _clean_text(item.get("name"), MAX_NAME, f"{where}.name", errors)
                phone = _clean_text(item.get("phone"), MAX_PHONE, f"{where}.phone", errors)
                note = _clean_text(item.get("note"), MAX_LINE, f"{where}.note", errors)
                if phone and not PHONE.match(phone):
                    errors[f"{where}.phone"] = _(
                        "Write the phone number with digits, spaces and an optional + at the start, "
                        "e.g. +1 555 010 0101."
                    )
                if (phone or note) and not name:
                    errors[f"{where}.name"] = _("Give a name for this contact, or leave the row empty.")
                if name:
                    items.append({"name": name, "phone": phone, "note": note})
        content[section.key] = items
    if errors:
        raise ValidationError(errors)
    return content


# Versions -------------------------------------------------------------------------------------------------


# Sent inside the saving transaction with member, version and content.
plan_saved = Signal()


class StalePlan(Exception):
    """The plan was saved by someone else after the version this save started from."""

    def __init__(self, current: PlanVersion | None):
        self.current = current
        self.number = current.number if current else 0  # 0: the plan has no version yet
        super().__init__(f"the plan is at version {self.number}")


def plan_of(member) -> AftercarePlan:
    plan, _created = AftercarePlan.objects.get_or_create(member=member)
    return plan


def current_version(member) -> PlanVersion | None:
    return PlanVersion.objects.filter(plan__member=member).select_related("author").first()


def content_of(version: PlanVersion | None) -> dict:
    if version is None:
        return empty_content()
    content = empty_content()
    content.update(json.loads(version.content_json))
    return content


def save_plan(member, *, by, content: dict, based_on: int, request=None) -> PlanVersion:
    """Store a new version of the member's plan, written by `by` starting from version `based_on` (0 for a
    plan that has none yet). Raises ValidationError for bad content and StalePlan if someone saved since.

    Callers check that `by` may change this plan (care.policy, Category.PLAN); a staff change is audited."""
    content = clean_content(content)
    with transaction.atomic():
        plan = plan_of(member)
        # Taking the plan row for update makes concurrent saves queue here, so exactly one of two saves
        # from the same version wins and the other is told the plan changed.
        plan = AftercarePlan.objects.select_for_update().get(pk=plan.pk)
        latest = plan.versions.first()
        number = latest.number if latest else 0
        if based_on != number:
            raise StalePlan(latest)
        if latest is not None and content_of(latest) == content:
            return latest  # nothing changed: no new version
        try:
            version = PlanVersion.objects.create(
                plan=plan, number=number + 1, content_json=json.dumps(content, ensure_ascii=False), author=by
            )
        except IntegrityError:
            raise StalePlan(plan.versions.first()) from None
        # Inside the transaction: the warning-sign tags (monitoring) change with the plan or not at all.
        plan_saved.send(sender=PlanVersion, member=member, version=version, content=content)
    _audit_change(request, by, member, f"saved plan version {version.number}")
    return version


def _audit_change(request, by, member, detail: str) -> None:
    policy.record_staff_change(request, by, member, Category.PLAN, detail)


def sign_off(version: PlanVersion, *, by, request=None) -> PlanSignOff:
    """`by` marks this version agreed: the member for themselves, a co-authoring supporter for the care team."""
    member = version.plan.member
    role = SignOffRole.MEMBER if by.pk == member.pk else SignOffRole.CARE_TEAM
    signoff, created = PlanSignOff.objects.get_or_create(version=version, person=by, defaults={"as_role": role})
    if created:
        _audit_change(request, by, member, f"agreed plan version {version.number}")
    plan = version.plan
    if created and plan.review_due is None and is_agreed(version):
        # Once both sides agree, the plan is due for review in three months unless someone set a date.
        plan.review_due = timezone.localdate() + timedelta(days=90)
        plan.save(update_fields=["review_due"])
    return signoff


def is_agreed(version: PlanVersion | None) -> bool:
    if version is None:
        return False
    roles = set(version.signoffs.values_list("as_role", flat=True))
    return {SignOffRole.MEMBER, SignOffRole.CARE_TEAM} <= roles


def set_review_due(member, *, by, due: date | None, request=None) -> AftercarePlan:
    plan = plan_of(member)
    plan.review_due = due
    plan.save(update_fields=["review_due"])
    _audit_change(request, by, member, f"set plan review date to {due or 'none'}")
    return plan


# Reading a plan -------------------------------------------------------------------------------------------


def item_text(section: Section, item) -> str:
    """One item as a line of text (for differences, the printed plan and the API's plain view)."""
    if section.kind == PAIRS:
        return f"{item['item']} → {item['response']}" if item.get("response") else item["item"]
    if section.kind == CONTACTS:
        text = item["name"] + (f", {item['phone']}" if item.get("phone") else "")
        return text + (f" ({item['note']})" if item.get("note") else "")
    return str(item)


@dataclass
class SectionChange:
    section: Section
    added: list[str]
    removed: list[str]


def differences(old: dict, new: dict) -> list[SectionChange]:
    """What changed from one version's content to another's, section by section, as added and removed lines
    (a text section that changed shows its old text removed and its new text added)."""
    changes = []
    for section in SECTIONS:
        before, after = old.get(section.key), new.get(section.key)
        if section.kind == TEXT:
            before_lines, after_lines = ([before] if before else []), ([after] if after else [])
        else:
            before_lines = [item_text(section, item) for item in before or []]
            after_lines = [item_text(section, item) for item in after or []]
        if before_lines == after_lines:
            continue
        added = [line for line in after_lines if line not in before_lines]
        removed = [line for line in before_lines if line not in after_lines]
        if not added and not removed:
            added = [_("(the same items in a new order)")]
        changes.append(SectionChange(section, added, removed))
    return changes


def merge(base: dict, theirs: dict, mine: dict) -> tuple[dict, list]:
    """Three-way merge by section after a stale save: sections only the other person changed take their
    version, sections only I changed keep mine, and sections we both changed differently keep mine and are
    returned as conflicts for me to check against theirs."""
    merged, conflicts = {}, []
    for section in SECTIONS:
        key = section.key
        was, other, own = base.get(key), theirs.get(key), mine.get(key)
        if own == was:
            merged[key] = other
        else:
            merged[key] = own
            if other != was and other != own:
                conflicts.append(section)
    return merged, conflicts


def crisis_steps(member) -> dict:
    """What the crisis screen shows from the member's own plan: their coping strategies and their people."""
    content = content_of(current_version(member))
    people = [
        (SECTION_BY_KEY[key].title, content[key])
        for key in ("help_contacts", "professionals", "distractions")
        if content[key]
    ]
    return {
        "coping_strategies": content["coping_strategies"],
        "people": people,
        "reason_for_living": content["reason_for_living"],
    }
