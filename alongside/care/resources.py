"""The organisation's educational resources library, and the resources a member's care team adds to their plan.

An organisation's admins, clinicians and case managers keep its library: links to good material and texts of
their own. A supporter who may change a member's plan (care.policy, Category.PLAN) adds a resource from the
library of an organisation in which they support the member; the member reads it and may mark it read.
Archiving a resource takes it out of the library and out of every member's list; its assignments stay.

Every write is one of the functions below. Each checks who is asking; a staff change to a member's resources
is written to the audit log, as a change of the member's plan.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import Organisation, Role
from alongside.care import policy
from alongside.care.models import Category, Resource, ResourceAssignment

LIBRARY_ROLES = frozenset({Role.ORG_ADMIN, Role.CLINICIAN, Role.CASE_MANAGER})
MAX_TITLE = 200
MAX_SUMMARY = 500
MAX_URL = 500
MAX_BODY = 20_000
MAX_TOPICS = 300
MAX_TOPIC = 60
MAX_QUERY = 100

_http_url = URLValidator(schemes=["http", "https"])


# Who may do what ------------------------------------------------------------------------------------------


def can_manage_library(person, organisation: Organisation) -> bool:
    """Org admins, clinicians and case managers keep their organisation's library."""
    if person is None or not person.is_authenticated or not person.is_active:
        return False
    return bool(person.roles_in(organisation) & LIBRARY_ROLES)


def _require_manager(by, organisation: Organisation) -> None:
    if not can_manage_library(by, organisation):
        raise PermissionDenied


def _source_organisations(by, member) -> QuerySet[Organisation]:
    """Organisations whose library `by` may add to the member's plan: those in which the member is a member
    and `by` is the member, or supports them as a co-author of their plan with the member's consent."""
    theirs = Organisation.objects.filter(roles__user=member, roles__role=Role.MEMBER)
    if by.pk == member.pk:
        return theirs.distinct()
    supporting = (
        policy.live_relationships(by)
        .filter(member=member, role__in=policy.CO_AUTHOR_ROLES, consent_grants__category=Category.PLAN)
        .values("organisation")
    )
    return theirs.filter(pk__in=supporting).distinct()


def _audit_change(request, by, member, detail: str) -> None:
    """A staff change of the member's plan resources, written as open_member_record writes a change."""
    policy.record_staff_change(request, by, member, Category.PLAN, detail)


# The library ----------------------------------------------------------------------------------------------


def _text(value, limit: int, field: str, errors: dict, *, single_line: bool = True) -> str:
    text = str(value if value is not None else "").replace("\r\n", "\n").strip()
    if single_line:
        text = " ".join(text.split())
    if "\x00" in text:
        errors[field] = _("This text contains a character that cannot be stored.")
    elif len(text) > limit:
        errors[field] = _("Keep this under %(limit)s characters (it has %(n)s).") % {"limit": limit, "n": len(text)}
    return text


def clean_topics(raw: str) -> list[str]:
    """Topics typed as "sleep, Relapse prevention ,sleep": trimmed, each once (whatever its case), in order."""
    topics: list[str] = []
    for part in str(raw or "").split(","):
        topic = " ".join(part.split())
        if topic and topic.lower() not in {seen.lower() for seen in topics}:
            topics.append(topic)
    return topics


@transaction.atomic
def save_resource(
    *,
    by,
    organisation: Organisation,
    resource: Resource | None = None,
    title: str,
    summary: str = "",
    url: str = "",
    body: str = "",
    topics: str = "",
    request=None,
) -> Resource:
    """Add a resource to the organisation's library, or change one that is in it. A resource is a link, a
    text, or both. Raises ValidationError naming each field that is wrong."""
    _require_manager(by, organisation)
    if resource is not None and resource.organisation_id != organisation.pk:
        raise PermissionDenied
    errors: dict[str, str] = {}
    title = _text(title, MAX_TITLE, "title", errors)
    if not title and "title" not in errors:
        errors["title"] = _("Give the resource a title.")
    summary = _text(summary, MAX_SUMMARY, "summary", errors)
    url = _text(url, MAX_URL, "url", errors)
    if url and "url" not in errors:
        try:
            _http_url(url)
        except ValidationError:
            errors["url"] = _("Enter a web address that starts with https:// (or http://).")
    body = _text(body, MAX_BODY, "body", errors, single_line=False)
    if not url and not body and not ({"url", "body"} & errors.keys()):
        errors["url"] = _("Give a link, write a text, or both.")
    topic_list = clean_topics(topics)
    long_topics = [topic for topic in topic_list if len(topic) > MAX_TOPIC]
    stored_topics = ", ".join(topic_list)
    if long_topics:
        errors["topics"] = _("Keep each topic under %(limit)s characters.") % {"limit": MAX_TOPIC}
    elif len(stored_topics) > MAX_TOPICS:
        errors["topics"] = _("Keep the topics under %(limit)s characters in all.") % {"limit": MAX_TOPICS}
    if errors:
        raise ValidationError(errors)
    if resource is None:
        resource = Resource(organisation=organisation, created_by=by)
    resource.title, resource.summary, resource.url, resource.body = title, summary, url, body
    resource.topics = stored_topics
    resource.save()
    return resource


@transaction.atomic
def archive_resource(*, by, resource: Resource, request=None) -> Resource:
    """Take a resource out of the library and out of members' lists. Archiving twice changes nothing."""
    _require_manager(by, resource.organisation)
    if resource.archived_at is None:
        resource.archived_at = timezone.now()
        resource.save(update_fields=["archived_at"])
    return resource


def library(organisation: Organisation, topic: str | None = None, query: str | None = None) -> QuerySet[Resource]:
    """The organisation's current resources, by title; only those on `topic` and matching `query`, if given."""
    resources = Resource.objects.filter(organisation=organisation, archived_at__isnull=True)
    topic = " ".join(str(topic or "").split())
    if topic:
        # Topics are stored as "a, b, c" (see clean_topics), so one topic is the whole value, its start, its end
        # or between two commas.
        resources = resources.filter(
            Q(topics__iexact=topic)
            | Q(topics__istartswith=f"{topic},")
            | Q(topics__iendswith=f", {topic}")
            | Q(topics__icontains=f", {topic},")
        )
    query = " ".join(str(query or "").split())[:MAX_QUERY]
    for word in query.split():
        resources = resources.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(topics__icontains=word) | Q(body__icontains=word)
        )
    return resources.order_by("title", "pk")


def topics_of(organisation: Organisation) -> list[str]:
    """Every topic in the organisation's library, once, alphabetically."""
    found: dict[str, str] = {}
    for topics in library(organisation).values_list("topics", flat=True):
        for topic in clean_topics(topics):
            found.setdefault(topic.lower(), topic)
    return sorted(found.values(), key=str.lower)


# A member's resources -------------------------------------------------------------------------------------


def assignable(*, by, member) -> QuerySet[Resource]:
    """The resources `by` may add to the member's plan (for the form that offers them), by title."""
    return (
        Resource.objects.filter(organisation__in=_source_organisations(by, member), archived_at__isnull=True)
        .select_related("organisation")
        .order_by("title", "pk")
    )


def assigned_to(member) -> QuerySet[ResourceAssignment]:
    """The resources the member's care team added to their plan, newest first; archived ones are left out."""
    return (
        ResourceAssignment.objects.filter(member=member, resource__archived_at__isnull=True)
        .select_related("resource", "resource__organisation", "assigned_by")
        .order_by("-assigned_at", "-pk")
    )


@transaction.atomic
def assign(*, by, member, resource: Resource, request=None) -> ResourceAssignment:
    """Add a library resource to the member's plan. Someone who may change the member's plan may do it, with a
    resource of an organisation in which they support the member. Adding it again changes nothing."""
    if not policy.can(by, policy.Action.CHANGE, member, Category.PLAN):
        raise PermissionDenied
    if resource.archived_at is not None:
        raise ValidationError({"resource": _("This resource has been archived.")})
    if not _source_organisations(by, member).filter(pk=resource.organisation_id).exists():
        raise ValidationError({"resource": _("Choose a resource from the library of this member's organisation.")})
    existing = ResourceAssignment.objects.filter(resource=resource, member=member).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            assignment = ResourceAssignment.objects.create(resource=resource, member=member, assigned_by=by)
    except IntegrityError:  # added by someone else a moment ago
        return ResourceAssignment.objects.get(resource=resource, member=member)
    _audit_change(request, by, member, f"added resource {resource.pk} “{resource.title}” to the plan")
    return assignment


@transaction.atomic
def unassign(*, by, assignment: ResourceAssignment, request=None) -> None:
    """Take a resource off the member's plan."""
    member = assignment.member
    if not policy.can(by, policy.Action.CHANGE, member, Category.PLAN):
        raise PermissionDenied
    resource = assignment.resource
    deleted, _rows = ResourceAssignment.objects.filter(pk=assignment.pk).delete()
    if deleted:
        _audit_change(request, by, member, f"removed resource {resource.pk} “{resource.title}” from the plan")


def mark_read(*, member, assignment: ResourceAssignment) -> ResourceAssignment:
    """The member has read the resource. Marking it again keeps the first time."""
    if assignment.member_id != member.pk:
        raise PermissionDenied
    if assignment.read_at is None:
        now = timezone.now()
        ResourceAssignment.objects.filter(pk=assignment.pk, read_at__isnull=True).update(read_at=now)
        assignment.refresh_from_db(fields=["read_at"])
    return assignment
