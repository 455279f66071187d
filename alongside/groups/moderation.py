"""Moderation: reports on posts, the moderators' queue, hiding and restoring posts, locking threads.

A space's moderators are the organisation's community moderators and, for a group, its facilitators (for the
community space, the organisation's group facilitators): `access.can_moderate`. Reports that may concern
someone's safety (crisis language Alongside found, or a reader worried about the author) are urgent: they head
the queue and reach the moderators at once. Every moderator action is in the audit log (category "groups",
with the post's author as the member it concerns); authors hear when their post is hidden, never who reported
it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import OrgRole, Role
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care.models import Category
from alongside.groups import access
from alongside.groups.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Post,
    Report,
    ReportReason,
    ReportStatus,
    Thread,
)
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify

MAX_REASON = 300
MAX_NOTE = 500
# Reasons a reader may give (crisis language is Alongside's own finding).
READER_REASONS = [(value, label) for value, label in ReportReason.choices if value != ReportReason.CRISIS_LANGUAGE]
URGENT_REASONS = {ReportReason.CRISIS_LANGUAGE, ReportReason.WORRIED}


def moderators_of(organisation, group=None) -> list:
    """The people who moderate a space, active accounts only."""
    people = set(OrgRole.objects.filter(organisation=organisation, role=Role.MODERATOR).values_list("user", flat=True))
    if group is not None:
        people |= set(
            Membership.objects.filter(
                group=group, role=MembershipRole.FACILITATOR, status=MembershipStatus.ACTIVE
            ).values_list("person", flat=True)
        )
    else:
        people |= set(
            OrgRole.objects.filter(organisation=organisation, role=Role.FACILITATOR).values_list("user", flat=True)
        )
    return list(get_user_model().objects.filter(pk__in=people, is_active=True).order_by("pk"))


def _tell_moderators(report: Report, *, urgent: bool) -> None:
    thread = report.post.thread
    title = (
        _("Urgent: a post in %(thread)s needs a moderator now") if urgent else _("A post in %(thread)s was reported")
    ) % {"thread": thread.title}
    for moderator in moderators_of(thread.organisation, thread.group):
        if moderator.pk == report.post.author_id:
            continue
        notify(
            moderator,
            kind=NotificationKind.MODERATION,
            title=title,
            source_key=f"group-report:{report.pk}:{moderator.pk}",
            link=reverse("groups:moderation") + f"#report-{report.pk}",
            urgent=urgent,
            organisation=thread.organisation,
        )


def _audit(by, post_or_thread, detail: str, request=None) -> None:
    thread = post_or_thread if isinstance(post_or_thread, Thread) else post_or_thread.thread
    record(
        AuditAction.CHANGE,
        actor=by,
        request=request,
        member=post_or_thread.author,
        organisation=thread.organisation,
        category=Category.GROUPS,
        detail=detail,
    )


def report_crisis(post: Post) -> Report:
    """Alongside found words of crisis in a post: an urgent report with no reporter, and the space's moderators
    are told at once. Called inside the transaction that stores the post."""
    report = Report.objects.create(post=post, reporter=None, reason=ReportReason.CRISIS_LANGUAGE, urgent=True)
    _tell_moderators(report, urgent=True)
    return report


def report(person, post: Post, *, reason: str, note: str = "", request=None) -> Report:
    """A reader reports a post to the space's moderators, once. Raises PermissionDenied for someone who may not
    read the space, ValidationError for a wrong reason, a long note, or a second report."""
    thread = post.thread
    if not access.can_read_space(person, thread.organisation, thread.group):
        raise PermissionDenied
    errors = {}
    if reason not in dict(READER_REASONS):
        errors["reason"] = _("Choose a reason.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("Keep the note under %(n)s characters.") % {"n": MAX_NOTE}
    if post.author_id == person.pk:
        errors["post"] = _("This is your own post. You can ask a moderator to hide it instead.")
    elif post.is_hidden:
        errors["post"] = _("A moderator already hid this post.")
    elif Report.objects.filter(post=post, reporter=person).exists():
        errors["post"] = _("You already reported this post. A moderator will look at it.")
    if errors:
        raise ValidationError(errors)
    urgent = reason in URGENT_REASONS
    try:
        with transaction.atomic():
            made = Report.objects.create(post=post, reporter=person, reason=reason, note=note, urgent=urgent)
            record(
                AuditAction.CHANGE,
                actor=person,
                request=request,
                organisation=thread.organisation,
                category=Category.GROUPS,
                detail=f"reported post {post.pk} ({reason})",
            )
            _tell_moderators(made, urgent=urgent)
    except IntegrityError:
        raise ValidationError({"post": _("You already reported this post. A moderator will look at it.")}) from None
    return made


def reported_by(person, posts) -> QuerySet:
    """Ids of the posts among `posts` that the person reported."""
    if not getattr(person, "is_authenticated", False):
        return Report.objects.none().values_list("post", flat=True)
    return Report.objects.filter(post__in=posts, reporter=person).values_list("post", flat=True)


def queue(person) -> QuerySet[Report]:
    """Open reports in the spaces the person moderates: urgent first, then oldest first."""
    threads = Thread.objects.filter(access.moderated_spaces(person)).exclude(group__archived_at__isnull=False)
    return (
        Report.objects.filter(status=ReportStatus.OPEN, post__thread__in=threads)
        .select_related("post", "post__author", "post__thread", "post__thread__group", "post__thread__organisation")
        .order_by("-urgent", "created_at", "pk")
    )


def _moderating(by, thread: Thread) -> None:
    if not access.can_moderate(by, thread.organisation, thread.group):
        raise PermissionDenied


def _reason(reason: str, *, required: bool) -> str:
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise ValidationError({"reason": _("Give a reason; the author will see it.")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("Keep the reason under %(n)s characters.") % {"n": MAX_REASON}})
    return reason


def _resolve(post: Post, by, status: str) -> int:
    return Report.objects.filter(post=post, status=ReportStatus.OPEN).update(
        status=status, resolved_at=timezone.now(), resolved_by=by
    )


def hide_post(post: Post, *, by, reason: str, request=None) -> Post:
    """Hide a post: readers see that a moderator hid it; its author and moderators still see the text. Its open
    reports are resolved as hidden and the author hears why."""
    thread = post.thread
    _moderating(by, thread)
    reason = _reason(reason, required=True)
    if post.is_hidden:
        raise ValidationError({"post": _("This post is already hidden.")})
    with transaction.atomic():
        post.hidden_at, post.hidden_by, post.hidden_reason = timezone.now(), by, reason
        post.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        resolved = _resolve(post, by, ReportStatus.HIDDEN)
        _audit(by, post, f"hid post {post.pk} ({resolved} reports): {reason}", request)
        if post.author_id != by.pk and post.author.is_active:
            notify(
                post.author,
                kind=NotificationKind.GROUP_ACTIVITY,
                title=_("A moderator hid your post in %(thread)s") % {"thread": thread.title},
                source_key=f"group-post-hidden:{post.pk}:{post.hidden_at.timestamp()}",
                link=reverse("groups:thread", args=[thread.pk]) + f"#post-{post.pk}",
                organisation=thread.organisation,
            )
    return post


def restore_post(post: Post, *, by, request=None) -> Post:
    _moderating(by, post.thread)
    if not post.is_hidden:
        raise ValidationError({"post": _("This post is not hidden.")})
    with transaction.atomic():
        post.hidden_at, post.hidden_by, post.hidden_reason = None, None, ""
        post.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        _audit(by, post, f"restored post {post.pk}", request)
    return post


def keep_post(post: Post, *, by, request=None) -> int:
    """Resolve a post's open reports without hiding it; returns how many were resolved."""
    _moderating(by, post.thread)
    with transaction.atomic():
        resolved = _resolve(post, by, ReportStatus.KEPT)
        if not resolved:
            raise ValidationError({"post": _("There are no open reports on this post.")})
        _audit(by, post, f"kept post {post.pk} ({resolved} reports)", request)
    return resolved


def lock_thread(thread: Thread, *, by, reason: str, request=None) -> Thread:
    """Lock a thread: it stays readable and takes no new replies."""
    _moderating(by, thread)
    reason = _reason(reason, required=True)
    if thread.is_locked:
        raise ValidationError({"thread": _("This thread is already locked.")})
    with transaction.atomic():
        thread.locked_at, thread.locked_by, thread.lock_reason = timezone.now(), by, reason
        thread.save(update_fields=["locked_at", "locked_by", "lock_reason"])
        _audit(by, thread, f"locked thread {thread.pk}: {reason}", request)
    return thread


def unlock_thread(thread: Thread, *, by, request=None) -> Thread:
    _moderating(by, thread)
    if not thread.is_locked:
        raise ValidationError({"thread": _("This thread is not locked.")})
    with transaction.atomic():
        thread.locked_at, thread.locked_by, thread.lock_reason = None, None, ""
        thread.save(update_fields=["locked_at", "locked_by", "lock_reason"])
        _audit(by, thread, f"unlocked thread {thread.pk}", request)
    return thread
