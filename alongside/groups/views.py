"""Group pages: the directory, making and changing a group, a group's page, its members (with moderation and
adding people), requests to join, and joining and leaving. Every rule is in groups/access.py and every change
in groups/membership.py; these views only ask and call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.models import Organisation, Role, User
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.forms import add_domain_errors
from alongside.groups import access, cards, membership, profiles
from alongside.groups.forms import AddPersonForm, DecisionForm, GroupForm, MuteForm, RemoveForm
from alongside.groups.models import Group, Membership, MembershipRole, MembershipStatus

# The directory ------------------------------------------------------------------------------------------------


def _creatable_organisations(person):
    return (
        Organisation.objects.filter(roles__user=person, roles__role__in=(Role.ORG_ADMIN, Role.FACILITATOR))
        .distinct()
        .order_by("name", "pk")
    )


@login_required
def directory(request):
    everything = cards.directory_cards(request.user)
    context = {
        "mine": cards.my_memberships(request.user),
        "listed": [card for card in everything if card.group.listed],
        # Unlisted groups are named only to those inside them and to those who manage them.
        "unlisted": [card for card in everything if not card.group.listed and card.my_status != "active"],
        "can_create": _creatable_organisations(request.user).exists(),
    }
    return render(request, "groups/directory.html", context)


# Making and changing a group ----------------------------------------------------------------------------------


def _after_save(request, group: Group):
    """To the group's page for those inside it; an org admin who is not goes on to its members."""
    if access.can_see_inside(request.user, group):
        return redirect("groups:group", pk=group.pk)
    return redirect("groups:members", pk=group.pk)


@login_required
def new_group(request):
    organisations = _creatable_organisations(request.user)
    if not organisations.exists():
        raise PermissionDenied
    form = GroupForm(request.POST or None, organisations=organisations, initial={"listed": True, "access": "open"})
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data.get("organisation") or organisations.first()
        try:
            group = membership.create_group(
                by=request.user, organisation=organisation, request=request, **form.group_fields()
            )
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("%(name)s is ready.") % {"name": group.name})
            return _after_save(request, group)
    return render(request, "groups/group_form.html", {"form": form, "group": None}, status=400 if form.errors else 200)


@login_required
def edit_group(request, pk):
    group = access.managed_group_or_404(request.user, pk)
    inside = access.can_see_inside(request.user, group)
    form = GroupForm(request.POST or None, initial=GroupForm.initial_for(group), inside=inside)
    if request.method == "POST" and form.is_valid():
        try:
            membership.update_group(group, by=request.user, request=request, **form.group_fields())
        except ValidationError as error:
            add_domain_errors(form, error)
            group.refresh_from_db()
        else:
            messages.success(request, _("Your changes to %(name)s are saved.") % {"name": group.name})
            return _after_save(request, group)
    context = {"form": form, "group": group, "inside": inside}
    return render(request, "groups/group_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def archive(request, pk):
    group = access.managed_group_or_404(request.user, pk)
    membership.archive_group(group, by=request.user, request=request)
    messages.success(
        request, _("%(name)s is archived: it no longer appears anywhere and nobody can join it.") % {"name": group.name}
    )
    return redirect("groups:directory")


# A group's page -------------------------------------------------------------------------------------------------


@login_required
def group_page(request, pk):
    group = access.group_or_404(request.user, pk)
    mine = access.active_membership(request.user, group)
    context = {
        "group": group,
        "mine": mine,
        "muted_message": membership.muted_message(mine),
        "facilitators": cards.facilitators(group),
        "meetings": cards.next_meetings(group),
        "places_left": cards.places_left(group),
        "can_manage": access.can_manage(request.user, group),
        "can_moderate": access.can_moderate(request.user, group.organisation, group),
    }
    return render(request, "groups/group.html", context)


# Members -----------------------------------------------------------------------------------------------------


def _members_group_or_404(person, pk) -> Group:
    """Its insiders see who is in a group, and so do the people who manage it."""
    group = Group.objects.live().select_related("organisation").filter(pk=pk).first()
    if group is None or not (access.can_see_inside(person, group) or access.can_manage(person, group)):
        raise Http404
    return group


def _addable_people(person, group: Group):
    """Whom a manager may pick to add: the organisation's members the care policy lets them see (an org admin
    all of them, a facilitator those they support) and its facilitators; anyone else by e-mail."""
    organisation = group.organisation
    visible = policy.members_visible_to(person, Category.PROFILE).filter(
        org_roles__organisation=organisation, org_roles__role=Role.MEMBER
    )
    facilitators = User.objects.filter(org_roles__organisation=organisation, org_roles__role=Role.FACILITATOR)
    already = group.memberships.active().values("person")
    return (
        User.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk__in=facilitators.values("pk")), is_active=True)
        .exclude(pk__in=already)
        .order_by("display_name", "pk")
    )


def _members_page(request, group: Group, *, add_form=None, problems=(), status=200):
    person = request.user
    manages = access.can_manage(person, group)
    moderates = access.can_moderate(person, group.organisation, group)
    rows = list(membership.members(group))
    shown = profiles.shown_names([row.person for row in rows], group.organisation)
    entries = []
    for row in rows:
        entries.append(
            {
                "membership": row,
                # Members know each other by their community names; the group's managers by their own.
                "name": row.person.display_name if manages else shown[row.person_id],
                "community_name": shown[row.person_id] if manages else "",
                "is_me": row.person_id == person.pk,
                "muted": row.is_muted(),
                "actions": moderates and row.person_id != person.pk and row.role == MembershipRole.MEMBER,
            }
        )
    if not manages:
        # Sorted by the names shown, so the order gives nothing of the real names away.
        entries.sort(key=lambda entry: (entry["membership"].role, entry["name"].casefold()))
    if manages and add_form is None:
        add_form = AddPersonForm(people=_addable_people(person, group), prefix="add")
    context = {
        "group": group,
        "entries": entries,
        "manages": manages,
        "moderates": moderates,
        "inside": access.can_see_inside(person, group),
        "add_form": add_form if manages else None,
        "problems": list(problems),
        "places_left": cards.places_left(group),
        "pending": group.memberships.filter(status=MembershipStatus.REQUESTED).count() if manages else 0,
        "max_mute_days": membership.MAX_MUTE.days,
    }
    return render(request, "groups/members.html", context, status=status)


@login_required
def members(request, pk):
    return _members_page(request, _members_group_or_404(request.user, pk))


def _moderated_or_404(request, pk, membership_pk) -> tuple[Group, Membership]:
    group = Group.objects.live().select_related("organisation").filter(pk=pk).first()
    if group is None or not access.can_moderate(request.user, group.organisation, group):
        raise Http404
    row = get_object_or_404(group.memberships.select_related("person", "group__organisation"), pk=membership_pk)
    return group, row


def _form_problems(form) -> list[str]:
    return [f"{form.fields[name].label}: {error}" if name in form.fields else error
            for name, errors in form.errors.items() for error in errors]  # fmt: skip


def _moderation(request, pk, membership_pk, form_class, act, done: str):
    group, row = _moderated_or_404(request, pk, membership_pk)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _members_page(request, group, problems=_form_problems(form), status=400)
    try:
        act(row, form.cleaned_data if form is not None else {})
    except ValidationError as error:
        return _members_page(request, group, problems=error.messages, status=400)
    messages.success(request, done)
    return redirect("groups:members", pk=group.pk)


@login_required
@require_POST
def mute_member(request, pk, membership_pk):
    return _moderation(
        request, pk, membership_pk, MuteForm,
        lambda row, data: membership.mute(row, by=request.user, request=request, **data),
        _("Their posting is paused. They were told, with your reason."),
    )  # fmt: skip


@login_required
@require_POST
def unmute_member(request, pk, membership_pk):
    return _moderation(
        request, pk, membership_pk, None,
        lambda row, data: membership.unmute(row, by=request.user, request=request),
        _("They can post again."),
    )  # fmt: skip


@login_required
@require_POST
def remove_member(request, pk, membership_pk):
    return _moderation(
        request, pk, membership_pk, RemoveForm,
        lambda row, data: membership.remove(row, by=request.user, request=request, **data),
        _("They are no longer in the group. They were told, with your reason."),
    )  # fmt: skip


@login_required
@require_POST
def add_person(request, pk):
    group = access.managed_group_or_404(request.user, pk)
    form = AddPersonForm(request.POST, people=_addable_people(request.user, group), prefix="add")
    if form.is_valid():
        person = (
            form.cleaned_data["person"]
            or User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
        )
        try:
            if person is None:
                # The same answer as for someone of another organisation: nothing is told of who has an account.
                raise ValidationError({"person": _("Only members of this organisation can join its groups.")})
            membership.add_person(group, person, by=request.user, role=form.cleaned_data["role"], request=request)
        except ValidationError as error:
            add_domain_errors(form, error, {"person": "person" if form.cleaned_data["person"] else "email"})
        else:
            messages.success(request, _("%(name)s is in the group and was told.") % {"name": person.display_name})
            return redirect("groups:members", pk=group.pk)
    return _members_page(request, group, add_form=form, status=400)


# Requests to join --------------------------------------------------------------------------------------------


def _requests_page(request, group: Group, *, problems=(), status=200):
    pending = group.memberships.filter(status=MembershipStatus.REQUESTED).select_related("person")
    context = {
        "group": group,
        "pending": pending.order_by("requested_at", "pk"),
        "places_left": cards.places_left(group),
        "problems": list(problems),
    }
    return render(request, "groups/requests.html", context, status=status)


@login_required
def requests_page(request, pk):
    return _requests_page(request, access.managed_group_or_404(request.user, pk))


@login_required
@require_POST
def decide(request, pk, membership_pk):
    group = access.managed_group_or_404(request.user, pk)
    row = get_object_or_404(group.memberships.select_related("person", "group__organisation"), pk=membership_pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _requests_page(request, group, problems=_form_problems(form), status=400)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        membership.decide(row, by=request.user, approve=approve, reason=form.cleaned_data["reason"], request=request)
    except ValidationError as error:
        return _requests_page(request, group, problems=error.messages, status=400)
    done = _("%(name)s is now a member.") if approve else _("%(name)s's request was declined. They were told.")
    messages.success(request, done % {"name": row.person.display_name})
    return redirect("groups:requests", pk=group.pk)


# Joining and leaving -----------------------------------------------------------------------------------------


@login_required
@require_POST
def join(request, pk):
    group = access.group_or_404(request.user, pk, inside=False)
    try:
        mine = membership.join(request.user, group, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("groups:directory")
    if mine.status == MembershipStatus.ACTIVE:
        messages.success(request, _("Welcome to %(name)s.") % {"name": group.name})
        return redirect("groups:group", pk=group.pk)
    messages.success(request, _("You asked to join %(name)s. Its facilitator will answer soon.") % {"name": group.name})
    return redirect("groups:directory")


@login_required
@require_POST
def leave(request, pk):
    group = access.group_or_404(request.user, pk, inside=False)
    try:
        left = membership.leave(request.user, group, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if left.joined_at is None:
            messages.success(request, _("You withdrew your request to join %(name)s.") % {"name": group.name})
        else:
            messages.success(request, _("You left %(name)s.") % {"name": group.name})
    return redirect("groups:directory")


urlpatterns = [
    path("groups/", directory, name="directory"),
    path("groups/new/", new_group, name="new_group"),
    path("groups/<int:pk>/", group_page, name="group"),
    path("groups/<int:pk>/edit/", edit_group, name="edit_group"),
    path("groups/<int:pk>/archive/", archive, name="archive"),
    path("groups/<int:pk>/join/", join, name="join"),
    path("groups/<int:pk>/leave/", leave, name="leave"),
    path("groups/<int:pk>/members/", members, name="members"),
    path("groups/<int:pk>/members/add/", add_person, name="add_person"),
    path("groups/<int:pk>/members/<int:membership_pk>/mute/", mute_member, name="mute_member"),
    path("groups/<int:pk>/members/<int:membership_pk>/unmute/", unmute_member, name="unmute_member"),
    path("groups/<int:pk>/members/<int:membership_pk>/remove/", remove_member, name="remove_member"),
    path("groups/<int:pk>/requests/", requests_page, name="requests"),
    path("groups/<int:pk>/requests/<int:membership_pk>/decide/", decide, name="decide"),
]
