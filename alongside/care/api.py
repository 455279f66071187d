from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from alongside.accounts.api import require_scope
from alongside.audit.models import AuditEvent
from alongside.care import actions, crisis_screen, notes, plan, policy, safety
from alongside.care.models import SHAREABLE_CATEGORIES, CareRelationship, Category
from alongside.core.idempotency import once_per_key, problem_from

router = Router(tags=["care team and consent"])

SHAREABLE = tuple(category.value for category in SHAREABLE_CATEGORIES)


class Problem(Schema):
    detail: str
    fields: list[str] = []


class SupporterSharingOut(Schema):
    relationship_id: int
    supporter: str
    role: str
    organisation: str
    since: datetime
    categories: list[str]
    safety_alerts: bool


class SharingIn(Schema):
    categories: list[str]
    safety_alerts: bool


class AccessOut(Schema):
    at: datetime
    who: str
    roles: str
    action: str
    category: str
    detail: str


class MemberSummaryOut(Schema):
    id: int
    display_name: str


class MemberRecordOut(Schema):
    id: int
    display_name: str
    shared_with_you: list[str]
    care_team: list[str]


def _require_member(request, detail: str = "") -> None:
    if not request.user.is_member:
        raise HttpError(403, detail or _("Only members have sharing settings."))


def _sharing_out(relationship: CareRelationship) -> SupporterSharingOut:
    return SupporterSharingOut(
        relationship_id=relationship.pk,
        supporter=relationship.staff.display_name,
        role=relationship.role,
        organisation=relationship.organisation.name,
        since=relationship.started_at,
        categories=sorted(relationship.shared_categories),
        safety_alerts=relationship.safety_alerts,
    )


@router.get(
    "/me/sharing",
    response={200: list[SupporterSharingOut], 403: Problem},
    summary="What each of my supporters may see",
)
def my_sharing(request):
    _require_member(request)
    return [_sharing_out(relationship) for relationship in CareRelationship.objects.care_team_of(request.user)]


@router.put(
    "/me/sharing/{relationship_id}",
    response={200: SupporterSharingOut, 403: Problem, 404: Problem, 422: dict},
    summary="Change what one supporter may see (takes effect at once)",
)
def update_my_sharing(request, relationship_id: int, payload: SharingIn):
    _require_member(request)
    relationship = get_object_or_404(CareRelationship.objects.care_team_of(request.user), pk=relationship_id)
    unknown = sorted(set(payload.categories) - set(SHAREABLE))
    if unknown:
        return Status(
            422,
            {
                "detail": f"Unknown categories: {', '.join(unknown)}. Choose from: {', '.join(SHAREABLE)}.",
                "fields": ["categories"],
            },
        )
    try:
        actions.set_sharing(
            member=request.user,
            relationship=relationship,
            categories=payload.categories,
            safety_alerts=payload.safety_alerts,
            request=request,
        )
    except (PermissionDenied, DjangoValidationError) as error:
        raise HttpError(422, "; ".join(getattr(error, "messages", [str(error)]))) from None
    return _sharing_out(CareRelationship.objects.care_team_of(request.user).get(pk=relationship.pk))


@router.get(
    "/me/access",
    response={200: list[AccessOut], 403: Problem},
    summary="Who has seen my data (newest first, last 200)",
)
def my_access_log(request):
    _require_member(request)
    events = AuditEvent.objects.filter(member=request.user).exclude(actor=request.user)[:200]
    return [
        AccessOut(
            at=event.at,
            who=event.actor.display_name if event.actor else event.actor_label,
            roles=event.actor_roles,
            action=event.action,
            category=event.category,
            detail=event.detail,
        )
        for event in events.select_related("actor")
    ]


@router.get("/members", response=list[MemberSummaryOut], summary="Members whose record I may open")
def visible_members(request):
    members = policy.members_visible_to(request.user, Category.PROFILE).order_by("display_name")
    return [MemberSummaryOut(id=member.pk, display_name=member.display_name) for member in members]


@router.get(
    "/members/{member_id}",
    response={200: MemberRecordOut, 404: Problem},
    summary="One member, as far as they share with me",
)
def member_record(request, member_id: int):
    member = policy.open_member_record(request, member_id, Category.PROFILE, detail="member record (API)")
    if member == request.user:
        raise HttpError(404, "Use /me for your own record.")
    shared = policy.categories_shared_with(request.user, member)
    team = [
        f"{relationship.staff.display_name} ({relationship.role})"
        for relationship in CareRelationship.objects.care_team_of(member)
    ]
    return MemberRecordOut(
        id=member.pk, display_name=member.display_name, shared_with_you=sorted(shared), care_team=team
    )


# Clinical notes (a member's clinicians and case managers) ----------------------------------------------------


class NoteOut(Schema):
    id: int
    member_id: int
    organisation: str
    author: str
    kind: str = Field(..., description="session, phone or risk_review")
    text: str
    occurred_at: datetime
    written_at: datetime
    corrects: int | None = Field(None, description="The note this one corrects")


class NoteIn(Schema):
    kind: str = Field(..., description="session, phone or risk_review")
    text: str
    occurred_at: datetime | None = Field(None, description="When the session or contact happened (default: now)")
    corrects: int | None = Field(None, description="The id of an earlier note this one corrects")


class NoteProblem(Schema):
    detail: str
    fields: list[str] = []


def _note_out(note) -> dict:
    return NoteOut(
        id=note.pk,
        member_id=note.member_id,
        organisation=note.organisation.name,
        author=note.author.display_name,
        kind=note.kind,
        text=note.text,
        occurred_at=note.occurred_at,
        written_at=note.written_at,
        corrects=note.corrects_id,
    ).model_dump(mode="json")


@router.get(
    "/members/{member_id}/notes",
    response={200: list[NoteOut], 404: NoteProblem},
    summary="A member's clinical notes, newest first (their clinicians and case managers only)",
)
def list_notes(request, member_id: int, limit: int = Query(100, ge=1, le=500)):
    require_scope(request, "read")
    member = notes.member_or_404(request.user, member_id)
    found = list(notes.notes_for(request.user, member)[:limit])
    notes.record_read(request, member, found, via=" (API)")
    return [_note_out(note) for note in found]


@router.post(
    "/members/{member_id}/notes",
    response={201: NoteOut, 400: NoteProblem, 404: NoteProblem, 409: NoteProblem, 422: NoteProblem},
    summary="Write a clinical note (send an Idempotency-Key header)",
)
def create_note(request, member_id: int, payload: NoteIn):
    require_scope(request, "write")
    member = notes.member_or_404(request.user, member_id)

    def create():
        try:
            note = notes.write_note(by=request.user, member=member, request=request, **payload.dict())
        except DjangoValidationError as error:
            return 422, problem_from(error)
        except PermissionDenied:
            return 404, {"detail": "Not found.", "fields": []}
        return 201, _note_out(note)

    return once_per_key(request, create)


# The member's own aftercare and safety plan ---------------------------------------------------------------


class PlanProblem(Schema):
    detail: str
    fields: list[str] = []
    current_version: int | None = None


class SignOffOut(Schema):
    name: str
    role: str
    signed_at: datetime


class PlanOut(Schema):
    version: int = Field(..., description="0 before the first save; send it back (or as If-Match) to save")
    saved_at: datetime | None
    saved_by: str
    review_due: date | None
    agreed: bool
    signoffs: list[SignOffOut]
    content: dict = Field(
        ..., description="Sections by key: text, lists of lines, {item, response} pairs or {name, phone, note} contacts"
    )


class PlanIn(Schema):
    content: dict
    version: int | None = Field(None, description="The version this edit started from (or send If-Match)")


def _plan_out(member, response) -> dict:
    version = plan.current_version(member)
    number = version.number if version else 0
    response["ETag"] = f'"{number}"'
    the_plan = plan.plan_of(member) if version else None
    signoffs = list(version.signoffs.select_related("person")) if version else []
    return {
        "version": number,
        "saved_at": version.saved_at if version else None,
        "saved_by": version.author.display_name if version and version.author else "",
        "review_due": the_plan.review_due if the_plan else None,
        "agreed": plan.is_agreed(version),
        "signoffs": [{"name": s.person.display_name, "role": s.as_role, "signed_at": s.signed_at} for s in signoffs],
        "content": plan.content_of(version),
    }


def _if_match(request) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    try:
        return int(header.removeprefix("W/").strip('"'))
    except ValueError:
        return -1  # matches no version: answered as stale


@router.get("/plan", response={200: PlanOut, 403: PlanProblem}, summary="My aftercare and safety plan (with ETag)")
def get_my_plan(request, response: HttpResponse):
    require_scope(request, "read")
    _require_member(request, _("Only members have a plan of their own."))
    return _plan_out(request.user, response)


@router.put(
    "/plan",
    response={200: PlanOut, 403: PlanProblem, 409: PlanProblem, 422: PlanProblem, 428: PlanProblem},
    summary="Save my plan as a new version; 409 if it changed since the version sent",
)
def put_my_plan(request, payload: PlanIn, response: HttpResponse):
    require_scope(request, "write")
    _require_member(request, _("Only members have a plan of their own."))
    based_on = _if_match(request)
    if based_on is None:
        based_on = payload.version
    if based_on is None:
        return Status(428, {"detail": _("Send the version you edited, as If-Match or version."), "fields": ["version"]})
    try:
        plan.save_plan(request.user, by=request.user, content=payload.content, based_on=based_on, request=request)
    except DjangoValidationError as error:
        return Status(
            422,
            {"detail": " ".join(error.messages), "fields": sorted(f"content.{field}" for field in error.message_dict)},
        )
    except plan.StalePlan as stale:
        return Status(
            409,
            {
                "detail": _("The plan changed since version %(number)s. Read it again and reapply your edit.")
                % {"number": based_on},
                "fields": ["version"],
                "current_version": stale.number,
            },
        )
    return _plan_out(request.user, response)


class StrugglingIn(Schema):
    ask_team: bool = False


class StrugglingOut(Schema):
    event_id: int
    team_asked: bool
    told: list[str] = Field(..., description="Supporters who receive this member's safety alerts")
    emergency: list[dict]
    coping_strategies: list[str]
    contacts: list[dict]


@router.post(
    "/struggling",
    response={201: StrugglingOut, 403: PlanProblem},
    summary="“I'm struggling” (send an Idempotency-Key): records it, and returns my plan's steps and crisis lines",
)
def struggling(request, payload: StrugglingIn):
    require_scope(request, "write")
    _require_member(request, _("Only members use “I'm struggling”."))
    key = request.headers.get("Idempotency-Key", "")
    event = safety.record_struggling(request.user, ask_team=payload.ask_team, client_key=key)
    steps = plan.crisis_steps(request.user)
    return Status(
        201,
        {
            "event_id": event.pk,
            "team_asked": event.team_asked,
            "told": [r.staff.display_name for r in safety.safety_recipients(request.user)],
            "emergency": crisis_screen.lines_for(request.user),
            "coping_strategies": steps["coping_strategies"],
            "contacts": [contact for _title, people in steps["people"] for contact in people],
        },
    )
