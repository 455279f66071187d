"""Peer-mentor matching: the one place that keeps mentor profiles and members' requests for a mentor, suggests
mentors for a request and approves a match.

- A peer mentor (staff holding the peer-mentor role in an organisation) keeps a profile there: languages, the
  lived experience they share, when they are available, their gender (optional), how many people they can
  mentor at once and whether they take on new people.
- A member asks for a mentor with their preferences; one open request per organisation. They may withdraw it.
- The organisation's admins and the member's clinicians and case managers there (a live care relationship)
  see the request and approve a match. Approving creates the care relationship (`care.actions.add_supporter`,
  so the peer mentor's default sharing applies) and tells the member and the mentor, without clinical detail.
- Reading a request is audited (it holds sensitive preferences), and so is every change (category "groups").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import CARE_COORDINATOR_ROLES, Organisation, OrgRole, Role, admin_organisations
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import actions as care_actions
from alongside.care import policy
from alongside.care.models import CareRelationship, Category
from alongside.groups.models import (
    Availability,
    Gender,
    LivedExperience,
    MentorProfile,
    MentorRequest,
    MentorRequestStatus,
)
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify

MAX_LANGUAGES = 10
LANGUAGE = re.compile(r"^[^\W\d_]+(?:[ '-][^\W\d_]+)*$")
MAX_CAPACITY = 30
# The score is the sum of these, so staff can see why one mentor is above another.
SCORE_PER_SHARED_EXPERIENCE = 2
SCORE_PER_SHARED_TIME = 1


# Reading input ------------------------------------------------------------------------------------------------


def normalise_languages(value: str | Iterable[str] | None) -> list[str]:
    """Languages from "spanish, English ,  Cantonese" (or a list): trimmed, single-spaced, capitalised, without
    repeats (ignoring case), in the order given. Raises ValidationError on "languages"."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    languages: list[str] = []
    seen: set[str] = set()
    for part in parts:
        if not isinstance(part, str):
            raise ValidationError({"languages": _("Write languages as words separated by commas.")})
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > 40 or not LANGUAGE.match(name):
            raise ValidationError(
                {"languages": _("“%(name)s” does not look like a language. Separate languages with commas.") % {
                    "name": name[:40]}}
            )  # fmt: skip
        name = name[0].upper() + name[1:]
        if name.casefold() not in seen:
            seen.add(name.casefold())
            languages.append(name)
    if len(languages) > MAX_LANGUAGES:
        raise ValidationError({"languages": _("Name at most %(n)s languages.") % {"n": MAX_LANGUAGES}})
    return languages


def _choices(value, allowed: type, field_name: str, message: str) -> list[str]:
    """Known values of a set of choices, in the choices' order, without repeats."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    values = set(value)
    unknown = values - set(allowed.values)
    if unknown:
        raise ValidationError({field_name: message % {"values": ", ".join(sorted(map(str, unknown)))}})
    return [choice for choice in allowed.values if choice in values]


def _lived_experience(value) -> list[str]:
    return _choices(value, LivedExperience, "lived_experience", _("Unknown lived-experience area: %(values)s."))


def _availability(value) -> list[str]:
    return _choices(value, Availability, "availability", _("Unknown time of availability: %(values)s."))


def _gender(value, field_name: str) -> str:
    value = value or ""
    if value and value not in Gender.values:
        raise ValidationError({field_name: _("Choose one of the listed options, or leave it empty.")})
    return value


def _text(value, field_name: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError({field_name: _("Keep this under %(n)s characters.") % {"n": limit}})
    return value


def _audit(action, by, organisation, detail: str, *, member=None, request=None) -> None:
    record(
        action,
        actor=by,
        request=request,
        member=member,
        organisation=organisation,
        category=Category.GROUPS,
        detail=detail,
    )


# Mentor profiles ----------------------------------------------------------------------------------------------


def peer_mentor_organisations(person) -> QuerySet[Organisation]:
    """Organisations where the person is a peer mentor (and so may keep a mentor profile)."""
    if not (person is not None and person.is_authenticated and person.is_active):
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=person, roles__role=Role.PEER_MENTOR).distinct().order_by("name")


def profile_of(person, organisation) -> MentorProfile | None:
    return MentorProfile.objects.filter(person=person, organisation=organisation).first()


def save_mentor_profile(
    person,
    organisation,
    *,
    languages,
    lived_experience,
    availability,
    gender: str = "",
    capacity,
    accepting: bool,
    about: str = "",
    request=None,
) -> MentorProfile:
    """A peer mentor creates or changes their profile in an organisation where they hold that role."""
    if not peer_mentor_organisations(person).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    errors = {}
    values = {}
    for name, read in (
        ("languages", lambda: normalise_languages(languages)),
        ("lived_experience", lambda: _lived_experience(lived_experience)),
        ("availability", lambda: _availability(availability)),
        ("gender", lambda: _gender(gender, "gender")),
        ("about", lambda: _text(about, "about", 500)),
    ):
        try:
            values[name] = read()
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        errors["capacity"] = [_("Give a whole number.")]
    else:
        if not 0 <= capacity <= MAX_CAPACITY:
            errors["capacity"] = [_("Choose between 0 and %(n)s people.") % {"n": MAX_CAPACITY}]
    if errors:
        raise ValidationError(errors)
    values.update(capacity=capacity, accepting=bool(accepting), updated_at=timezone.now())
    with transaction.atomic():
        try:
            with transaction.atomic():
                profile, created = MentorProfile.objects.update_or_create(
                    person=person, organisation=organisation, defaults=values
                )
        except IntegrityError:  # the same profile saved twice at once: the second save updates it
            MentorProfile.objects.filter(person=person, organisation=organisation).update(**values)
            profile, created = MentorProfile.objects.get(person=person, organisation=organisation), False
        _audit(
            AuditAction.CHANGE, person, organisation,
            "created mentor profile" if created else "changed mentor profile", request=request,
        )  # fmt: skip
    return profile


def _taken_places(organisation, mentor_ids) -> dict[int, int]:
    """How many people each mentor mentors now in the organisation (active peer-mentor relationships)."""
    rows = (
        CareRelationship.objects.active()
        .filter(organisation=organisation, role=Role.PEER_MENTOR, staff__in=mentor_ids)
        .values("staff")
        .annotate(taken=Count("pk"))
    )
    return {row["staff"]: row["taken"] for row in rows}


def places_free(profile: MentorProfile) -> int:
    taken = _taken_places(profile.organisation_id, [profile.person_id]).get(profile.person_id, 0)
    return max(profile.capacity - taken, 0)


# Members' requests --------------------------------------------------------------------------------------------


def member_organisations(person) -> QuerySet[Organisation]:
    """Organisations where the person is a member (and so may ask for a peer mentor)."""
    if not (person is not None and person.is_authenticated and person.is_active):
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=person, roles__role=Role.MEMBER).distinct().order_by("name")


def open_request(member, organisation) -> MentorRequest | None:
    return MentorRequest.objects.filter(
        member=member, organisation=organisation, status=MentorRequestStatus.OPEN
    ).first()


def requests_of(member) -> QuerySet[MentorRequest]:
    """The member's own requests, newest first."""
    return (
        MentorRequest.objects.filter(member=member)
        .select_related("organisation", "matched_mentor", "relationship")
        .order_by("-created_at", "-pk")
    )


def _approvers(mentor_request: MentorRequest):
    """Who may approve: the organisation's admins and the member's clinicians and case managers there."""
    organisation = mentor_request.organisation
    admins = OrgRole.objects.filter(organisation=organisation, role=Role.ORG_ADMIN).values("user")
    coordinators = (
        policy.live_team(mentor_request.member)
        .filter(organisation=organisation, role__in=CARE_COORDINATOR_ROLES)
        .values("staff")
    )
    return get_user_model().objects.filter(Q(pk__in=admins) | Q(pk__in=coordinators), is_active=True).distinct()


def ask_for_mentor(
    member,
    organisation,
    *,
    languages="",
    lived_experience=(),
    availability=(),
    gender_preference: str = "",
    note: str = "",
    request=None,
) -> MentorRequest:
    """A member asks for a peer mentor in an organisation where they are a member. One open request at a time
    per organisation; the people who may approve hear that it waits (not what it says)."""
    if not member_organisations(member).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    errors = {}
    values = {}
    for name, read in (
        ("languages", lambda: normalise_languages(languages)),
        ("lived_experience", lambda: _lived_experience(lived_experience)),
        ("availability", lambda: _availability(availability)),
        ("gender_preference", lambda: _gender(gender_preference, "gender_preference")),
        ("note", lambda: _text(note, "note", 500)),
    ):
        try:
            values[name] = read()
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    already = _("You already asked for a peer mentor here. Withdraw that request to ask again.")
    if open_request(member, organisation) is not None:
        raise ValidationError({"organisation": already})
    try:
        with transaction.atomic():
            mentor_request = MentorRequest.objects.create(organisation=organisation, member=member, **values)
            _audit(
                AuditAction.CHANGE, member, organisation, f"asked for a peer mentor (request {mentor_request.pk})",
                member=member, request=request,
            )  # fmt: skip
            link = reverse("groups:mentor_request", args=[mentor_request.pk])
            for approver in _approvers(mentor_request):
                notify(
                    approver, kind=NotificationKind.GROUP_ACTIVITY, title=_("A member asked for a peer mentor"),
                    source_key=f"mentor-request:{mentor_request.pk}:{approver.pk}", organisation=organisation,
                    link=link,
                )  # fmt: skip
    except IntegrityError:  # a second click at the same moment made the open request already
        raise ValidationError({"organisation": already}) from None
    return mentor_request


def withdraw(mentor_request: MentorRequest, *, by, request=None) -> MentorRequest:
    """The member withdraws their open request."""
    if by.pk != mentor_request.member_id:
        raise PermissionDenied
    with transaction.atomic():
        locked = MentorRequest.objects.select_for_update().get(pk=mentor_request.pk)
        if locked.status != MentorRequestStatus.OPEN:
            raise ValidationError({"request": _("This request is no longer open.")})
        locked.status = MentorRequestStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        _audit(
            AuditAction.CHANGE, by, locked.organisation, f"withdrew peer-mentor request {locked.pk}",
            member=by, request=request,
        )  # fmt: skip
    return locked


# Who sees and approves requests -------------------------------------------------------------------------------


def requests_visible_to(person) -> QuerySet[MentorRequest]:
    """Requests (any status) of the organisations the person administers, and of the members they support
    there as clinician or case manager."""
    if not (person is not None and person.is_authenticated and person.is_active):
        return MentorRequest.objects.none()
    coordinated = policy.live_relationships(person).filter(
        role__in=CARE_COORDINATOR_ROLES, member=OuterRef("member"), organisation=OuterRef("organisation")
    )
    return MentorRequest.objects.filter(
        Q(organisation__in=admin_organisations(person)) | Q(Exists(coordinated))
    ).select_related("organisation", "member", "matched_mentor")


def may_approve(person, mentor_request: MentorRequest) -> bool:
    return requests_visible_to(person).filter(pk=mentor_request.pk).exists()


def may_see_queue(person) -> bool:
    """Staff who could approve requests (org admins, clinicians, case managers) have a queue, perhaps empty."""
    if not (person is not None and person.is_authenticated and person.is_active):
        return False
    return OrgRole.objects.filter(user=person, role__in=[Role.ORG_ADMIN, *CARE_COORDINATOR_ROLES]).exists()


def request_for_approver_or_404(person, request_pk, *, http_request=None) -> MentorRequest:
    """The request if the person may approve it (404 otherwise). With `http_request`, the read is audited:
    the request holds the member's sensitive preferences."""
    try:
        request_pk = int(request_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    mentor_request = requests_visible_to(person).filter(pk=request_pk).first()
    if mentor_request is None:
        raise Http404
    if http_request is not None:
        _audit(
            AuditAction.VIEW, person, mentor_request.organisation, f"read peer-mentor request {mentor_request.pk}",
            member=mentor_request.member, request=http_request,
        )  # fmt: skip
    return mentor_request


# Suggestions --------------------------------------------------------------------------------------------------


@dataclass
class Suggestion:
    """A mentor who could take the request, with a score and the reasons behind it."""

    mentor: object
    profile: MentorProfile
    score: int
    places_free: int
    languages: list[str] = field(default_factory=list)
    shared_experience: list[str] = field(default_factory=list)
    shared_times: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        labels_experience = dict(LivedExperience.choices)
        labels_time = dict(Availability.choices)
        reasons = []
        if self.languages:
            reasons.append(_("speaks %(languages)s") % {"languages": ", ".join(self.languages)})
        if self.shared_experience:
            reasons.append(
                _("shares: %(areas)s")
                % {"areas": ", ".join(str(labels_experience[area]).lower() for area in self.shared_experience)}
            )
        if self.shared_times:
            reasons.append(", ".join(str(labels_time[time]).lower() for time in self.shared_times))
        reasons.append(
            _("%(free)s of %(capacity)s places free") % {"free": self.places_free, "capacity": self.profile.capacity}
        )
        return reasons

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def _candidates(organisation) -> QuerySet[MentorProfile]:
    """Profiles of the organisation's active peer mentors who take on new people."""
    mentors = OrgRole.objects.filter(organisation=organisation, role=Role.PEER_MENTOR).values("user")
    return MentorProfile.objects.filter(
        organisation=organisation, person__in=mentors, person__is_active=True, accepting=True
    ).select_related("person")


def _already_supporting(member, organisation, mentor_ids) -> set[int]:
    return set(
        CareRelationship.objects.active()
        .filter(member=member, organisation=organisation, staff__in=mentor_ids)
        .values_list("staff", flat=True)
    )


def _fit(mentor_request: MentorRequest, profile: MentorProfile, free: int) -> Suggestion | None:
    """The suggestion for this mentor, or None when a filter rules them out."""
    if free <= 0 or profile.person_id == mentor_request.member_id:
        return None
    wanted = {language.casefold() for language in mentor_request.languages}
    spoken = [language for language in profile.languages if language.casefold() in wanted]
    if wanted and not spoken:
        return None
    if mentor_request.gender_preference and profile.gender != mentor_request.gender_preference:
        return None
    shared_experience = [area for area in LivedExperience.values if area in set(mentor_request.lived_experience)
                         and area in set(profile.lived_experience)]  # fmt: skip
    shared_times = [time for time in Availability.values if time in set(mentor_request.availability)
                    and time in set(profile.availability)]  # fmt: skip
    score = SCORE_PER_SHARED_EXPERIENCE * len(shared_experience) + SCORE_PER_SHARED_TIME * len(shared_times)
    return Suggestion(
        mentor=profile.person, profile=profile, score=score, places_free=free, languages=spoken,
        shared_experience=shared_experience, shared_times=shared_times,
    )  # fmt: skip


def suggestions(mentor_request: MentorRequest) -> list[Suggestion]:
    """Mentors for an open request, best first. Only peer mentors of the organisation with a profile, taking on
    new people, with places free and not already supporting the member; when the member named languages, only
    those who speak one; when they prefer a gender, only mentors of it. Score: 2 per shared lived-experience
    area plus 1 per shared time of availability; ties go to more free places, then by name."""
    if mentor_request.status != MentorRequestStatus.OPEN:
        return []
    profiles = list(_candidates(mentor_request.organisation))
    ids = [profile.person_id for profile in profiles]
    taken = _taken_places(mentor_request.organisation, ids)
    supporting = _already_supporting(mentor_request.member, mentor_request.organisation, ids)
    found = []
    for profile in profiles:
        if profile.person_id in supporting:
            continue
        suggestion = _fit(mentor_request, profile, profile.capacity - taken.get(profile.person_id, 0))
        if suggestion is not None:
            found.append(suggestion)
    found.sort(key=lambda s: (-s.score, -s.places_free, s.mentor.display_name.casefold(), s.mentor.pk))
    return found


# Approving a match --------------------------------------------------------------------------------------------


def _refusal(mentor_request: MentorRequest, mentor) -> str:
    """Why this mentor cannot take the request now (empty when they can). Call with the profile locked."""
    organisation = mentor_request.organisation
    if mentor is None or not mentor.is_active or Role.PEER_MENTOR not in mentor.roles_in(organisation):
        return _("Choose a peer mentor of this organisation.")
    profile = MentorProfile.objects.select_for_update().filter(organisation=organisation, person=mentor).first()
    if profile is None:
        return _("This peer mentor has no mentor profile yet.")
    if not profile.accepting:
        return _("This peer mentor is not taking on new people.")
    if _already_supporting(mentor_request.member, organisation, [mentor.pk]):
        return _("This person already supports the member.")
    if places_free(profile) <= 0:
        return _("This peer mentor has no places free.")
    return ""


def approve_match(mentor_request: MentorRequest, *, by, mentor, request=None) -> MentorRequest:
    """Match an open request with a mentor: the care relationship starts (with the peer mentor's default
    sharing), the request is marked matched, and the member and mentor are told. The request row is locked, so
    two approvals at once make one relationship; approving again with the same mentor changes nothing."""
    if not may_approve(by, mentor_request):
        raise PermissionDenied
    with transaction.atomic():
        locked = (
            MentorRequest.objects.select_for_update().select_related("organisation", "member").get(pk=mentor_request.pk)
        )
        if (
            locked.status == MentorRequestStatus.MATCHED
            and mentor is not None
            and locked.matched_mentor_id == mentor.pk
        ):
            return locked
        if locked.status != MentorRequestStatus.OPEN:
            raise ValidationError({"request": _("This request is no longer open.")})
        refusal = _refusal(locked, mentor)
        if refusal:
            raise ValidationError({"mentor": refusal})
        organisation, member = locked.organisation, locked.member
        relationship = care_actions.add_supporter(
            by=by, organisation=organisation, member=member, staff=mentor, role=Role.PEER_MENTOR, request=request
        )
        now = timezone.now()
        locked.status = MentorRequestStatus.MATCHED
        locked.matched_mentor = mentor
        locked.matched_by = by
        locked.matched_at = now
        locked.relationship = relationship
        locked.save(update_fields=["status", "matched_mentor", "matched_by", "matched_at", "relationship"])
        _audit(
            AuditAction.CHANGE, by, organisation,
            f"matched peer-mentor request {locked.pk} with {mentor.display_name}", member=member, request=request,
        )  # fmt: skip
        notify(
            member, kind=NotificationKind.GROUP_ACTIVITY, organisation=organisation,
            title=_("You have a peer mentor: %(name)s") % {"name": mentor.display_name},
            source_key=f"mentor-match:{locked.pk}:member", link=reverse("groups:ask_for_mentor"),
        )  # fmt: skip
        notify(
            mentor, kind=NotificationKind.GROUP_ACTIVITY, organisation=organisation,
            title=_("You are now peer mentor to %(name)s") % {"name": member.display_name},
            source_key=f"mentor-match:{locked.pk}:mentor", link=reverse("web:member_record", args=[member.pk]),
        )  # fmt: skip
    return locked
