"""Discussion: threads, replies and reactions, in a group's space or the organisation's community space.

Who may read a space is `access.can_read_space`; posting also takes accepted community guidelines, not being
muted in the group, an open thread, and staying under the flood limits. What people write is sanitised once,
on the way in (`sanitize.to_safe_html`). Words of crisis in a post never stop it being stored: the post is
marked, a safety event is recorded for the author first, in its own transaction (so it stays if storing the post
fails), and the moderators are sent an urgent report (`moderation.report_crisis`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts.models import Role
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import crisis_language
from alongside.care.models import Category, SafetyKind
from alongside.care.safety import record_safety_event
from alongside.core import ratelimit
from alongside.groups import access, moderation, profiles, sanitize
from alongside.groups.membership import muted_message
from alongside.groups.models import Group, Post, Reaction, ReactionKind, Thread
from alongside.notify.models import NotificationKind
from alongside.notify.outbox import notify

log = logging.getLogger(__name__)

MAX_TITLE = 140
# Flood limits per person, across every space: enough for a real conversation, not for a flood.
POSTS_PER_MINUTE = 5
POSTS_PER_HOUR = 40


class PostingRefused(Exception):
    """Someone who may read a space may not post there now; `message` says why, in words for them. `status` is
    the API's answer and `field` the request field it concerns."""

    status = 403
    field = "body"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        # The text had words of crisis (its safety event is recorded): show the author the crisis screen.
        self.crisis = False


class GuidelinesNeeded(PostingRefused):
    field = "guidelines"


class Muted(PostingRefused):
    pass


class ThreadLocked(PostingRefused):
    status = 409


class RateLimited(PostingRefused):
    status = 429


# Reading ---------------------------------------------------------------------------------------------------------


def space_threads(person, organisation, group: Group | None) -> QuerySet[Thread]:
    """The threads of one space (a group's, or with group None the organisation's community space), newest
    activity first, with their number of posts. Raises PermissionDenied for someone who may not read it."""
    if not access.can_read_space(person, organisation, group):
        raise PermissionDenied
    threads = Thread.objects.filter(organisation=organisation)
    threads = threads.filter(group=group) if group is not None else threads.filter(group__isnull=True)
    return threads.annotate(post_count=Count("posts")).order_by("-last_post_at", "-pk")


def community_organisations(person):
    """Organisations whose community space the person may read (where they hold any role)."""
    return access.organisations_of(person).order_by("name")


def may_see_hidden(person, post: Post, *, moderates: bool) -> bool:
    """A hidden post's text is for the space's moderators and its author; everyone else sees that it was hidden."""
    return moderates or post.author_id == getattr(person, "pk", None)


@dataclass
class ShownPost:
    post: Post
    author_name: str
    hidden: bool
    # The text is shown (a visible post, or a hidden one to its author or a moderator).
    readable: bool
    counts: dict[str, int] = field(default_factory=dict)
    mine: set[str] = field(default_factory=set)
    reported_by_me: bool = False

    @property
    def reactions(self) -> list[tuple[str, str, int, bool]]:
        """(kind, label, count, whether the viewer gave it) for every kind, in a fixed order."""
        return [(kind, label, self.counts.get(kind, 0), kind in self.mine) for kind, label in ReactionKind.choices]


def shown_posts(person, thread: Thread, posts=None) -> list[ShownPost]:
    """A thread's posts as the person may see them, with author names (pseudonyms for members), reaction counts
    and the person's own reactions, in a fixed number of queries."""
    posts = list(posts if posts is not None else thread.posts.order_by("created_at", "pk"))
    if not posts:
        return []
    moderates = access.can_moderate(person, thread.organisation, thread.group)
    names = profiles.shown_names({post.author_id for post in posts}, thread.organisation)
    counts: dict[int, dict[str, int]] = {}
    for post_id, kind, number in (
        Reaction.objects.filter(post__in=posts).values_list("post", "kind").annotate(number=Count("pk"))
    ):
        counts.setdefault(post_id, {})[kind] = number
    mine: dict[int, set[str]] = {}
    for post_id, kind in Reaction.objects.filter(post__in=posts, person=person).values_list("post", "kind"):
        mine.setdefault(post_id, set()).add(kind)
    reported = set(moderation.reported_by(person, posts))
    shown = []
    for post in posts:
        shown.append(
            ShownPost(
                post=post,
                author_name=names[post.author_id],
                hidden=post.is_hidden,
                readable=not post.is_hidden or may_see_hidden(person, post, moderates=moderates),
                counts={} if post.is_hidden else counts.get(post.pk, {}),
                mine=mine.get(post.pk, set()),
                reported_by_me=post.pk in reported,
            )
        )
    return shown


def post_or_404(person, post_pk) -> Post:
    """A post in a thread the person may read (hidden ones included: their placeholder is what a reader sees)."""
    from django.http import Http404

    try:
        post_pk = int(post_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    post = (
        Post.objects.filter(pk=post_pk, thread__in=access.visible_threads(person))
        .select_related("thread", "thread__group", "thread__organisation", "author")
        .first()
    )
    if post is None:
        raise Http404
    return post


# Writing ---------------------------------------------------------------------------------------------------------


def posting_problem(person, organisation, group: Group | None, thread: Thread | None = None) -> PostingRefused | None:
    """Why the person may not post in this space (or thread) now, if they may not; None if they may. Someone who
    may not even read the space gets PermissionDenied."""
    if not access.can_read_space(person, organisation, group):
        raise PermissionDenied
    if not profiles.has_accepted_guidelines(person, organisation):
        return GuidelinesNeeded(_("Choose how you appear and accept the community guidelines before you post."))
    if group is not None:
        muted = muted_message(access.active_membership(person, group))
        if muted:
            return Muted(muted)
    if thread is not None and thread.is_locked:
        return ThreadLocked(_("A moderator locked this thread, so it takes no new replies."))
    return None


def _check_flood(person) -> None:
    identity = str(person.pk)
    within_minute = ratelimit.hit("group-posts-minute", identity, limit=POSTS_PER_MINUTE, per_seconds=60)
    within_hour = ratelimit.hit("group-posts-hour", identity, limit=POSTS_PER_HOUR, per_seconds=3600)
    if not within_minute:
        raise RateLimited(_("You are posting very quickly. Wait a minute, then send it again; your text is kept."))
    if not within_hour:
        raise RateLimited(_("You have posted a lot this hour. Take a break and send it a little later."))


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": _("Give the thread a title.")})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": _("Keep the title under %(n)s characters.") % {"n": MAX_TITLE}})
    return title


def _clean_key(client_key: str) -> str:
    client_key = (client_key or "").strip()
    if len(client_key) > 80:
        raise ValidationError({"client_key": _("The key is too long (at most 80 characters).")})
    return client_key


def _earlier(person, client_key: str) -> Post | None:
    if not client_key:
        return None
    return Post.objects.filter(author=person, client_key=client_key).select_related("thread").first()


def _audit(person, organisation, detail: str, request=None) -> None:
    record(
        AuditAction.CHANGE,
        actor=person,
        request=request,
        member=person if access.holds(person, organisation, Role.MEMBER) else None,
        organisation=organisation,
        category=Category.GROUPS,
        detail=detail,
    )


def _crisis_in(*texts: str) -> bool:
    return any(crisis_language.found_in(text) for text in texts)


def _record_crisis_event(person, organisation, source: str) -> None:
    """A safety event for a member who wrote words of crisis (it reaches supporters who get their safety alerts
    and see their group activity). Staff writing such words get the crisis screen and the moderators' urgent
    report, not a member's safety event."""
    if access.holds(person, organisation, Role.MEMBER):
        record_safety_event(person, SafetyKind.CRISIS_LANGUAGE_POST, source=source)


def record_unstored_crisis(person, organisation, *texts: str) -> bool:
    """For a caller whose own transaction rolled a post back (the API's): the post is gone, so its safety event
    must be recorded again, outside that transaction. True if there was crisis language."""
    if not _crisis_in(*texts):
        return False
    log.error("a group post with words of crisis failed to store; recording its safety event on its own")
    _record_crisis_event(person, organisation, "group post that failed to store")
    return True


def _write(person, organisation, group, *, title, body, client_key, thread=None, request=None) -> Post:
    """The shared path of a new thread (thread None) and a reply."""
    client_key = _clean_key(client_key)
    earlier = _earlier(person, client_key)
    if earlier is not None:
        if thread is not None and earlier.thread_id != thread.pk:
            raise ValidationError({"client_key": _("This key was already used for another post.")})
        return earlier
    if not access.can_read_space(person, organisation, group):
        raise PermissionDenied
    errors = {}
    try:
        title = _clean_title(title) if thread is None else ""
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        body_html = sanitize.to_safe_html(body)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    crisis = _crisis_in(title, sanitize.plain_text(body_html))
    try:
        problem = posting_problem(person, organisation, group, thread)
        if problem is not None:
            raise problem
        _check_flood(person)
    except PostingRefused as refused:
        if crisis:
            # Not posted, but the words were written: the author still sees the crisis screen and their
            # supporters still hear of it.
            refused.crisis = True
            _record_crisis_event(person, organisation, "group post that was not posted")
        raise
    if crisis:
        # Recorded before the post, in its own transaction: if storing the post fails, the event stays.
        where = f"group {group.pk}" if group is not None else "the community space"
        _record_crisis_event(person, organisation, f"group post in {where}")
    try:
        with transaction.atomic():
            now = timezone.now()
            if thread is None:
                thread = Thread.objects.create(
                    organisation=organisation, group=group, author=person, title=title, created_at=now, last_post_at=now
                )
            else:
                Thread.objects.filter(pk=thread.pk).update(last_post_at=now)
            post = Post.objects.create(
                thread=thread, author=person, body_html=body_html, client_key=client_key, crisis=crisis
            )
            if crisis:
                moderation.report_crisis(post)
            _audit(person, organisation, f"posted {post.pk} in thread {thread.pk}", request)
    except IntegrityError:
        # The same key from two requests at once: the other one stored the post.
        existing = _earlier(person, client_key)
        if existing is None:
            raise
        return existing
    return post


def start_thread(person, organisation, group: Group | None = None, *, title: str, body: str, client_key: str = "",
                 request=None) -> Post:  # fmt: skip
    """Start a thread in a group's space (or the community space, with group None); returns its opening post
    (`post.thread` is the thread; `post.crisis` says the author must see the crisis screen now).

    Raises PermissionDenied (may not read the space), PostingRefused (may not post now) or ValidationError."""
    if group is not None and group.organisation_id != organisation.pk:
        raise PermissionDenied
    return _write(person, organisation, group, title=title, body=body, client_key=client_key, request=request)


def reply(person, thread: Thread, *, body: str, client_key: str = "", request=None) -> Post:
    """Reply in a thread. The thread's author and earlier repliers who can still read it hear of it."""
    post = _write(
        person, thread.organisation, thread.group, title="", body=body, client_key=client_key, thread=thread,
        request=request,
    )  # fmt: skip
    _tell_participants(post)
    return post


def _tell_participants(post: Post) -> None:
    """A notification per person who took part (thread author, earlier repliers) and can still read the space:
    a link only, never the words. Keyed per post and person, so telling twice tells once."""
    thread = post.thread
    people = {thread.author} | {
        earlier.author for earlier in thread.posts.filter(pk__lt=post.pk).select_related("author")
    }
    link = reverse("groups:thread", args=[thread.pk]) + f"#post-{post.pk}"
    for person in people:
        if person.pk == post.author_id or not person.is_active:
            continue
        if not access.can_read_space(person, thread.organisation, thread.group):
            continue
        notify(
            person,
            kind=NotificationKind.GROUP_ACTIVITY,
            title=_("New reply in %(title)s") % {"title": thread.title},
            source_key=f"group-reply:{post.pk}:{person.pk}",
            link=link,
            organisation=thread.organisation,
        )


# Reactions -------------------------------------------------------------------------------------------------------


def set_reaction(person, post: Post, kind: str, given: bool, *, request=None) -> bool:
    """Give a reaction (given True) or take it back (False); asking twice changes nothing. Returns whether it
    is now given. Only readers of the space react, and never to a hidden post."""
    thread = post.thread
    if not access.can_read_space(person, thread.organisation, thread.group):
        raise PermissionDenied
    if kind not in ReactionKind.values:
        raise ValidationError({"kind": _("Choose one of the reactions offered.")})
    if post.is_hidden:
        raise ValidationError({"kind": _("A moderator hid this post, so it takes no reactions.")})
    with transaction.atomic():
        if given:
            try:
                with transaction.atomic():
                    _reaction, created = Reaction.objects.get_or_create(post=post, person=person, kind=kind)
            except IntegrityError:  # a double click at the same moment: it is given
                created = False
            changed = created
        else:
            changed = bool(Reaction.objects.filter(post=post, person=person, kind=kind).delete()[0])
        if changed:
            verb = "gave" if given else "took back"
            _audit(person, thread.organisation, f"{verb} {kind} on post {post.pk}", request)
    return given


def toggle_reaction(person, post: Post, kind: str, *, request=None) -> bool:
    """Give a reaction, or take it back if given (the page's button); True when it is now given."""
    given = Reaction.objects.filter(post=post, person=person, kind=kind).exists()
    return set_reaction(person, post, kind, not given, request=request)


def reaction_counts(post: Post) -> dict[str, int]:
    if post.is_hidden:
        return {}
    return dict(post.reactions.values_list("kind").annotate(number=Count("pk")).values_list("kind", "number"))
