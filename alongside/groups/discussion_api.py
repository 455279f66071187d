"""The discussion API: threads of a group or of the community space, their posts, new threads and replies
(with an Idempotency-Key), reports and reactions. The same domain functions and access rules as the pages."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from alongside.accounts.api import require_scope
from alongside.core.idempotency import once_per_key, problem_from
from alongside.groups import access, discussion, moderation, profiles, sanitize
from alongside.groups.models import Post, Thread

router = Router(tags=["groups"])


class Problem(Schema):
    detail: str
    fields: list[str] = []
    crisis: bool = Field(False, description="Words of crisis: show the person the crisis screen now")


class ThreadOut(Schema):
    id: int
    title: str
    organisation: str = Field(..., description="The organisation's slug")
    group_id: int | None = Field(None, description="Empty for the community space")
    author: str = Field(..., description="As discussions show them: a pseudonym for members, name and role for staff")
    created_at: datetime
    last_post_at: datetime
    locked: bool
    lock_reason: str
    post_count: int


class PostOut(Schema):
    id: int
    thread_id: int
    author: str
    created_at: datetime
    hidden: bool = Field(..., description="Hidden by a moderator; its text only for its author and moderators")
    hidden_reason: str = ""
    body_html: str = Field("", description="Sanitised HTML (safe to show), empty when hidden from you")
    text: str = Field("", description="The same without markup")
    reactions: dict[str, int] = {}
    my_reactions: list[str] = []
    crisis: bool = Field(False, description="On your own new post: words of crisis, show the crisis screen now")
    crisis_url: str = ""


class ThreadIn(Schema):
    title: str
    body: str


class ReplyIn(Schema):
    body: str


class ReportIn(Schema):
    reason: str = Field(..., description="harmful, harassment, privacy, spam, worried or other")
    note: str = ""


class ReportOut(Schema):
    id: int
    post_id: int
    reason: str
    urgent: bool


class ReactionIn(Schema):
    kind: str = Field(..., description="me_too, thank_you or strength")
    given: bool = Field(True, description="False takes the reaction back")


class ReactionOut(Schema):
    post_id: int
    kind: str
    given: bool
    reactions: dict[str, int]


def _threads_out(threads, organisation) -> list[dict]:
    threads = list(threads[:200])
    names = profiles.shown_names({t.author_id for t in threads}, organisation)
    return [
        ThreadOut(
            id=t.pk, title=t.title, organisation=organisation.slug, group_id=t.group_id, author=names[t.author_id],
            created_at=t.created_at, last_post_at=t.last_post_at, locked=t.is_locked, lock_reason=t.lock_reason,
            post_count=t.post_count,
        ).model_dump(mode="json")
        for t in threads
    ]  # fmt: skip


def _posts_out(person, thread: Thread, posts=None) -> list[dict]:
    out = []
    for item in discussion.shown_posts(person, thread, posts):
        post = item.post
        readable = item.readable
        text = sanitize.plain_text(post.body_html) if readable else ""
        out.append(
            PostOut(
                id=post.pk, thread_id=post.thread_id, author=item.author_name, created_at=post.created_at,
                hidden=item.hidden, hidden_reason=post.hidden_reason if item.hidden and readable else "",
                body_html=post.body_html if readable else "", text=text,
                reactions=item.counts, my_reactions=sorted(item.mine),
            ).model_dump(mode="json")
        )  # fmt: skip
    return out


def _community_organisation(person, org: str | None):
    organisations = list(discussion.community_organisations(person))
    if org:
        for organisation in organisations:
            if organisation.slug == org:
                return organisation
        raise Http404
    if not organisations:
        raise Http404
    if len(organisations) > 1:
        return None
    return organisations[0]


def _which_organisation() -> JsonResponse:
    detail = _("You belong to more than one organisation: say which with org=<slug>.")
    return JsonResponse({"detail": detail, "fields": ["org"]}, status=400)


def _write(request, make, organisation, texts: tuple[str, ...]):
    """A new thread or reply, once per Idempotency-Key (which is also the post's client key)."""
    key = request.headers.get("Idempotency-Key", "").strip()[:80]

    def create():
        try:
            post = make(key)
        except discussion.PostingRefused as refused:
            return refused.status, {"detail": refused.message, "fields": [refused.field], "crisis": refused.crisis}
        except DjangoValidationError as error:
            return 422, problem_from(error)
        except PermissionDenied:
            return 404, {"detail": _("Not found."), "fields": []}
        body = _posts_out(request.user, post.thread, [post])[0]
        if post.crisis:
            body.update(crisis=True, crisis_url=reverse("web:crisis"))
        return 201, body

    try:
        return once_per_key(request, create)
    except Exception:
        # The post was rolled back with the request's transaction: its safety event must not be.
        discussion.record_unstored_crisis(request.user, organisation, *texts)
        raise


@router.get(
    "/groups/{group_id}/threads",
    response={200: list[ThreadOut], 404: Problem},
    summary="A group's threads, newest activity first",
)
def group_threads(request, group_id: int):
    require_scope(request, "read")
    group = access.group_or_404(request.user, group_id)
    return _threads_out(discussion.space_threads(request.user, group.organisation, group), group.organisation)


@router.get(
    "/community/threads",
    response={200: list[ThreadOut], 400: Problem, 404: Problem},
    summary="The community space's threads (org=<slug> if you belong to several organisations)",
)
def community_threads(request, org: str | None = Query(None)):
    require_scope(request, "read")
    organisation = _community_organisation(request.user, org)
    if organisation is None:
        return _which_organisation()
    return _threads_out(discussion.space_threads(request.user, organisation, None), organisation)


@router.get(
    "/threads/{thread_id}/posts", response={200: list[PostOut], 404: Problem}, summary="A thread's posts, oldest first"
)
def thread_posts(request, thread_id: int):
    require_scope(request, "read")
    thread = access.thread_or_404(request.user, thread_id)
    return _posts_out(request.user, thread)


POST_ANSWERS = {201: PostOut, 400: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem}


@router.post(
    "/threads/{thread_id}/posts",
    response=POST_ANSWERS,
    summary="Reply in a thread (send an Idempotency-Key header)",
)
def create_reply(request, thread_id: int, payload: ReplyIn):
    require_scope(request, "write")
    thread = access.thread_or_404(request.user, thread_id)

    def make(key):
        return discussion.reply(request.user, thread, body=payload.body, client_key=key, request=request)

    return _write(request, make, thread.organisation, (payload.body,))


@router.post(
    "/groups/{group_id}/threads",
    response=POST_ANSWERS,
    summary="Start a thread in a group (send an Idempotency-Key header); answers with its opening post",
)
def create_group_thread(request, group_id: int, payload: ThreadIn):
    require_scope(request, "write")
    group = access.group_or_404(request.user, group_id)

    def make(key):
        return discussion.start_thread(
            request.user, group.organisation, group, title=payload.title, body=payload.body, client_key=key,
            request=request,
        )  # fmt: skip

    return _write(request, make, group.organisation, (payload.title, payload.body))


@router.post(
    "/community/threads",
    response=POST_ANSWERS,
    summary="Start a thread in the community space (org=<slug> if you belong to several; send an Idempotency-Key)",
)
def create_community_thread(request, payload: ThreadIn, org: str | None = Query(None)):
    require_scope(request, "write")
    organisation = _community_organisation(request.user, org)
    if organisation is None:
        return _which_organisation()

    def make(key):
        return discussion.start_thread(
            request.user, organisation, None, title=payload.title, body=payload.body, client_key=key, request=request
        )

    return _write(request, make, organisation, (payload.title, payload.body))


@router.post(
    "/posts/{post_id}/reports",
    response={201: ReportOut, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    summary="Report a post to the moderators, once (send an Idempotency-Key header)",
)
def report_post(request, post_id: int, payload: ReportIn):
    require_scope(request, "write")
    post = discussion.post_or_404(request.user, post_id)

    def create():
        try:
            made = moderation.report(request.user, post, reason=payload.reason, note=payload.note, request=request)
        except DjangoValidationError as error:
            return 422, problem_from(error)
        return 201, ReportOut(id=made.pk, post_id=post.pk, reason=made.reason, urgent=made.urgent).model_dump(
            mode="json"
        )

    return once_per_key(request, create)


@router.post(
    "/posts/{post_id}/reactions",
    response={200: ReactionOut, 404: Problem, 422: Problem},
    summary="Give (or, with given false, take back) a reaction; asking twice changes nothing",
)
def react(request, post_id: int, payload: ReactionIn):
    require_scope(request, "write")
    post: Post = discussion.post_or_404(request.user, post_id)
    try:
        given = discussion.set_reaction(request.user, post, payload.kind, payload.given, request=request)
    except DjangoValidationError as error:
        return Status(422, problem_from(error))
    counts = discussion.reaction_counts(post)
    return Status(200, {"post_id": post.pk, "kind": payload.kind, "given": given, "reactions": counts})
