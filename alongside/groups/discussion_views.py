"""Discussion pages: a group's threads, the community space, a thread with its replies and reactions, reports,
the moderators' queue and their actions, and the community profile with the guidelines. Each view asks
`access` who may see it (404 otherwise) and calls the domain functions in `discussion`, `moderation` and
`profiles`; none writes a model itself."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.core.forms import add_domain_errors
from alongside.groups import access, discussion, moderation, profiles
from alongside.groups.discussion_forms import ProfileForm, ReactionForm, ReasonForm, ReplyForm, ReportForm, ThreadForm
from alongside.groups.membership import muted_message

KEY_FIELDS = {"client_key": None}


def _safe_next(request, target: str, fallback: str) -> str:
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):  # fmt: skip
        return target
    return fallback


def _profile_url(organisation, next_url: str) -> str:
    return reverse("groups:community_profile") + "?" + urlencode({"org": organisation.slug, "next": next_url})


def _community_choice(request):
    """The organisation whose community space is asked for (`?org=`), the one there is, or None with the list
    to choose from. 404 for an organisation the person holds no role in."""
    organisations = list(discussion.community_organisations(request.user))
    if not organisations:
        raise Http404
    slug = request.GET.get("org") or request.POST.get("org")
    if slug:
        for organisation in organisations:
            if organisation.slug == slug:
                return organisation, organisations
        raise Http404
    return (organisations[0] if len(organisations) == 1 else None), organisations


def _space_url(organisation, group) -> str:
    if group is not None:
        return reverse("groups:threads", args=[group.pk])
    return reverse("groups:community") + "?" + urlencode({"org": organisation.slug})


def _refused(request, refused: discussion.PostingRefused, form, *, organisation, here: str):
    """A refused post: the crisis screen first if it had words of crisis; the profile page when guidelines are
    missing; otherwise the form again, with the reason and the text kept. Returns a response or None."""
    if refused.crisis:
        messages.warning(request, refused.message)
        messages.info(request, _("What you wrote sounds really hard. Here is your plan and people who can help now."))
        return redirect("web:crisis")
    if isinstance(refused, discussion.GuidelinesNeeded):
        messages.info(request, refused.message)
        return redirect(_profile_url(organisation, here))
    form.add_error("body" if isinstance(refused, discussion.RateLimited) else None, refused.message)
    return None


def _after_post(request, post):
    if post.crisis:
        # Words of crisis: their own plan and the crisis lines, at once. The post is kept and moderators know.
        messages.info(
            request,
            _("Your post is up. What you wrote sounds really hard: here is your plan and people who can help now."),
        )
        return redirect("web:crisis")
    return redirect(reverse("groups:thread", args=[post.thread_id]) + f"#post-{post.pk}")


def _named(threads_qs, organisation, limit: int = 200) -> list:
    """The newest threads of a space, each with `author_name` as discussions show it."""
    listed = list(threads_qs[:limit])
    names = profiles.shown_names({t.author_id for t in listed}, organisation)
    for item in listed:
        item.author_name = names[item.author_id]
    return listed


@login_required
def threads(request, pk):
    group = access.group_or_404(request.user, pk)
    context = {
        "group": group,
        "organisation": group.organisation,
        "threads": _named(discussion.space_threads(request.user, group.organisation, group), group.organisation),
        "new_url": reverse("groups:new_group_thread", args=[group.pk]),
    }
    return render(request, "groups/discussion.html", context)


@login_required
def community(request):
    organisation, organisations = _community_choice(request)
    if organisation is None:
        return render(request, "groups/community.html", {"organisations": organisations})
    context = {
        "organisation": organisation,
        "organisations": organisations,
        "threads": _named(discussion.space_threads(request.user, organisation, None), organisation),
        "new_url": reverse("groups:new_community_thread") + "?" + urlencode({"org": organisation.slug}),
        "profile_url": reverse("groups:community_profile") + "?" + urlencode({"org": organisation.slug}),
    }
    return render(request, "groups/community.html", context)


def _new_thread(request, organisation, group):
    here = request.get_full_path()
    if not profiles.has_accepted_guidelines(request.user, organisation):
        messages.info(request, _("Choose how you appear and accept the community guidelines before you post."))
        return redirect(_profile_url(organisation, here))
    form = ThreadForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            post = discussion.start_thread(
                request.user, organisation, group, title=form.cleaned_data["title"], body=form.cleaned_data["body"],
                client_key=form.cleaned_data["key"], request=request,
            )  # fmt: skip
            return _after_post(request, post)
        except discussion.PostingRefused as refused:
            response = _refused(request, refused, form, organisation=organisation, here=here)
            if response is not None:
                return response
            status = refused.status
        except ValidationError as error:
            add_domain_errors(form, error, KEY_FIELDS)
    if form.errors and status == 200:
        status = 400
    context = {
        "form": form,
        "group": group,
        "organisation": organisation,
        "space_url": _space_url(organisation, group),
        "muted": muted_message(access.active_membership(request.user, group)) if group else "",
    }
    return render(request, "groups/thread_new.html", context, status=status)


@login_required
def new_group_thread(request, pk):
    group = access.group_or_404(request.user, pk)
    return _new_thread(request, group.organisation, group)


@login_required
def new_community_thread(request):
    organisation, _organisations = _community_choice(request)
    if organisation is None:
        return redirect("groups:community")
    return _new_thread(request, organisation, None)


def _thread_context(request, the_thread, form):
    organisation, group = the_thread.organisation, the_thread.group
    problem = discussion.posting_problem(request.user, organisation, group, the_thread)
    moderates = access.can_moderate(request.user, organisation, group)
    return {
        "thread": the_thread,
        "group": group,
        "organisation": organisation,
        "posts": discussion.shown_posts(request.user, the_thread),
        "form": form,
        "problem": problem,
        "needs_guidelines": isinstance(problem, discussion.GuidelinesNeeded),
        "profile_url": _profile_url(organisation, reverse("groups:thread", args=[the_thread.pk])),
        "moderates": moderates,
        "space_url": _space_url(organisation, group),
        "thread_author": profiles.shown_names([the_thread.author_id], organisation)[the_thread.author_id],
    }


@login_required
def thread(request, pk):
    the_thread = access.thread_or_404(request.user, pk)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        here = reverse("groups:thread", args=[the_thread.pk])
        try:
            post = discussion.reply(
                request.user, the_thread, body=form.cleaned_data["body"], client_key=form.cleaned_data["key"],
                request=request,
            )  # fmt: skip
            return _after_post(request, post)
        except discussion.PostingRefused as refused:
            response = _refused(request, refused, form, organisation=the_thread.organisation, here=here)
            if response is not None:
                return response
            status = refused.status
        except ValidationError as error:
            add_domain_errors(form, error, KEY_FIELDS)
    if form.errors and status == 200:
        status = 400
    return render(request, "groups/thread.html", _thread_context(request, the_thread, form), status=status)


@login_required
@require_POST
def react(request, pk):
    post = discussion.post_or_404(request.user, pk)
    form = ReactionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            discussion.toggle_reaction(request.user, post, form.cleaned_data["kind"], request=request)
        except ValidationError as problem:
            error = " ".join(problem.messages)
    else:
        error = _("Choose one of the reactions offered.")
    if request.htmx:
        # htmx swaps only successful answers, so a refusal comes back as the buttons with the reason beside them.
        shown = discussion.shown_posts(request.user, post.thread, [post])[0]
        return render(request, "groups/_post_reactions.html", {"item": shown, "error": error})
    if error:
        messages.error(request, error)
    return redirect(reverse("groups:thread", args=[post.thread_id]) + f"#post-{post.pk}")


@login_required
def report_post(request, pk):
    post = discussion.post_or_404(request.user, pk)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moderation.report(
                request.user, post, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"], request=request
            )
            messages.success(
                request,
                _("Thank you for telling us. A moderator will look at it; the author is not told who reported it."),
            )
            return redirect(reverse("groups:thread", args=[post.thread_id]) + f"#post-{post.pk}")
        except ValidationError as error:
            add_domain_errors(form, error, {"post": None})
    shown = discussion.shown_posts(request.user, post.thread, [post])[0]
    return render(
        request, "groups/report.html", {"form": form, "item": shown, "thread": post.thread},
        status=400 if form.errors else 200,
    )  # fmt: skip


@login_required
def moderation_queue(request):
    if not access.moderates_anything(request.user):
        raise PermissionDenied
    reports = list(moderation.queue(request.user)[:200])
    authors: dict[int, tuple[object, set[int]]] = {}
    for item in reports:
        organisation = item.post.thread.organisation
        authors.setdefault(organisation.pk, (organisation, set()))[1].add(item.post.author_id)
    names = {
        organisation_pk: profiles.shown_names(people, organisation)
        for organisation_pk, (organisation, people) in authors.items()
    }
    for item in reports:
        item.author_name = names[item.post.thread.organisation_id][item.post.author_id]
    return render(request, "groups/moderation.html", {"reports": reports})


def _moderated_post(request, pk):
    post = discussion.post_or_404(request.user, pk)
    if not access.can_moderate(request.user, post.thread.organisation, post.thread.group):
        raise Http404
    return post


def _moderated_thread(request, pk):
    the_thread = access.thread_or_404(request.user, pk)
    if not access.can_moderate(request.user, the_thread.organisation, the_thread.group):
        raise Http404
    return the_thread


def _back(request, fallback: str):
    return redirect(_safe_next(request, request.POST.get("next", ""), fallback))


def _moderate(request, action, target, done: str, fallback: str, *, with_reason: bool):
    kwargs = {"by": request.user, "request": request}
    if with_reason:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a reason of up to 300 characters; the author will see it."))
            return _back(request, fallback)
        kwargs["reason"] = form.cleaned_data["reason"]
    try:
        action(target, **kwargs)
        messages.success(request, done)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _back(request, fallback)


def _post_url(post) -> str:
    return reverse("groups:thread", args=[post.thread_id]) + f"#post-{post.pk}"


@login_required
@require_POST
def hide_post(request, pk):
    post = _moderated_post(request, pk)
    return _moderate(request, moderation.hide_post, post, _("The post is hidden."), _post_url(post), with_reason=True)


@login_required
@require_POST
def restore_post(request, pk):
    post = _moderated_post(request, pk)
    return _moderate(request, moderation.restore_post, post, _("The post is shown again."), _post_url(post),
                     with_reason=False)  # fmt: skip


@login_required
@require_POST
def keep_post(request, pk):
    post = _moderated_post(request, pk)
    return _moderate(request, moderation.keep_post, post, _("The post stays; its reports are closed."),
                     reverse("groups:moderation"), with_reason=False)  # fmt: skip


@login_required
@require_POST
def lock_thread(request, pk):
    the_thread = _moderated_thread(request, pk)
    return _moderate(request, moderation.lock_thread, the_thread, _("The thread is locked."),
                     reverse("groups:thread", args=[the_thread.pk]), with_reason=True)  # fmt: skip


@login_required
@require_POST
def unlock_thread(request, pk):
    the_thread = _moderated_thread(request, pk)
    return _moderate(request, moderation.unlock_thread, the_thread, _("The thread takes replies again."),
                     reverse("groups:thread", args=[the_thread.pk]), with_reason=False)  # fmt: skip


@login_required
def community_profile(request):
    organisation, organisations = _community_choice(request)
    if organisation is None:
        return render(request, "groups/profile.html", {"organisations": organisations, "choose": True})
    profile = profiles.profile_of(request.user, organisation)
    initial = {"pseudonym": profile.pseudonym if profile else "", "next": request.GET.get("next", "")}
    form = ProfileForm(request.POST or None, initial=initial)
    is_staff_here = profiles.is_staff_in(request.user, organisation)
    if is_staff_here:
        del form.fields["pseudonym"]  # staff appear under their own name and role
    if request.method == "POST" and form.is_valid():
        try:
            profiles.save_profile(
                request.user, organisation, pseudonym=form.cleaned_data.get("pseudonym", ""),
                accept_guidelines=form.cleaned_data["accept_guidelines"],
            )  # fmt: skip
            messages.success(request, _("Saved. Welcome to the conversation."))
            fallback = _space_url(organisation, None)
            return redirect(_safe_next(request, form.cleaned_data["next"], fallback))
        except ValidationError as error:
            add_domain_errors(form, error)
    context = {
        "form": form,
        "organisation": organisation,
        "organisations": organisations,
        "profile": profile,
        "accepted": profiles.has_accepted_guidelines(request.user, organisation),
        "is_staff_here": is_staff_here,
    }
    return render(request, "groups/profile.html", context, status=400 if form.errors else 200)
