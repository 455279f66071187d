from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from alongside.audit.models import AuditEvent
from alongside.care import actions, policy
from alongside.care.models import SHAREABLE_CATEGORIES, CareRelationship, Category

router = Router(tags=["care team and consent"])

SHAREABLE = tuple(category.value for category in SHAREABLE_CATEGORIES)


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


def _require_member(request):
    if not request.user.is_member:
        raise HttpError(403, "Only members have sharing settings.")


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


@router.get("/me/sharing", response=list[SupporterSharingOut], summary="What each of my supporters may see")
def my_sharing(request):
    _require_member(request)
    return [_sharing_out(relationship) for relationship in CareRelationship.objects.care_team_of(request.user)]


@router.put(
    "/me/sharing/{relationship_id}",
    response={200: SupporterSharingOut, 422: dict},
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


@router.get("/me/access", response=list[AccessOut], summary="Who has seen my data (newest first, last 200)")
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


@router.get("/members/{member_id}", response=MemberRecordOut, summary="One member, as far as they share with me")
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
