"""Pages of the educational resources library (care/resources.py): the organisation's library for the staff who
keep it, a member's own resources, and the care team adding or removing a resource on a member's plan."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.accounts.models import Organisation
from alongside.care import policy, resources
from alongside.care.models import Category, Resource, ResourceAssignment
from alongside.care.resource_forms import AssignResourceForm, ResourceForm
from alongside.core.forms import add_domain_errors

# The library ----------------------------------------------------------------------------------------------


def _library_organisation(request, slug) -> Organisation:
    """The organisation if the person keeps its library; 404 for everyone else, as for other admin pages."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None or not resources.can_manage_library(request.user, organisation):
        raise Http404
    return organisation


@login_required
def library(request, slug):
    organisation = _library_organisation(request, slug)
    topic = request.GET.get("topic", "").strip()
    query = request.GET.get("q", "").strip()[: resources.MAX_QUERY]
    items = resources.library(organisation, topic=topic, query=query)
    context = {
        "organisation": organisation,
        "resources": items,
        "topics": resources.topics_of(organisation),
        "topic": topic,
        "query": query,
        "filtered": bool(topic or query),
    }
    return render(request, "care/resources/library.html", context)


def _edit(request, organisation: Organisation, resource: Resource | None):
    initial = ResourceForm.initial_for(resource) if resource else None
    form = ResourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = resources.save_resource(
                by=request.user, organisation=organisation, resource=resource, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("%(title)s is saved in the library.") % {"title": saved.title})
            return redirect("care:resource_library", slug=organisation.slug)
    return render(
        request,
        "care/resources/edit.html",
        {"organisation": organisation, "resource": resource, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def new_resource(request, slug):
    return _edit(request, _library_organisation(request, slug), None)


@login_required
def edit_resource(request, slug, resource_pk):
    organisation = _library_organisation(request, slug)
    resource = get_object_or_404(Resource, pk=resource_pk, organisation=organisation, archived_at__isnull=True)
    return _edit(request, organisation, resource)


@login_required
@require_POST
def archive_resource(request, slug, resource_pk):
    organisation = _library_organisation(request, slug)
    resource = get_object_or_404(Resource, pk=resource_pk, organisation=organisation)
    resources.archive_resource(by=request.user, resource=resource, request=request)
    messages.success(
        request, _("%(title)s is archived: it is no longer offered or shown to members.") % {"title": resource.title}
    )
    return redirect("care:resource_library", slug=organisation.slug)


# The member's own resources -------------------------------------------------------------------------------


def _my_assignment(request, assignment_pk) -> ResourceAssignment:
    return get_object_or_404(resources.assigned_to(request.user), pk=assignment_pk)


@member_required
def my_resources(request):
    assignments = list(resources.assigned_to(request.user))
    unread = sum(1 for assignment in assignments if assignment.read_at is None)
    return render(request, "care/resources/mine.html", {"assignments": assignments, "unread": unread})


@member_required
def my_resource(request, assignment_pk):
    assignment = _my_assignment(request, assignment_pk)
    return render(request, "care/resources/read.html", {"assignment": assignment, "resource": assignment.resource})


@member_required
@require_POST
def mark_read(request, assignment_pk):
    assignment = _my_assignment(request, assignment_pk)
    resources.mark_read(member=request.user, assignment=assignment)
    messages.success(request, _("Marked as read."))
    return redirect("care:my_resource", assignment_pk=assignment.pk)


# The care team --------------------------------------------------------------------------------------------


def _open_for_change(request, member_pk, detail: str):
    """The member whose plan resources a supporter changes, or 404 (members use their own pages). The change
    itself is audited by resources.assign / unassign."""
    return policy.member_to_change(request.user, member_pk, Category.PLAN)


def _back(request, member):
    """Back to the page the form was on (the member's plan, say) if it is ours, else to the member record."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if target.startswith("/") and safe:
        return redirect(target)
    return redirect("web:member_record", member_pk=member.pk)


@login_required
@require_POST
def assign(request, member_pk):
    member = _open_for_change(request, member_pk, detail="plan resources: add")
    form = AssignResourceForm(request.POST, resources=resources.assignable(by=request.user, member=member))
    if not form.is_valid():
        messages.error(request, _("Choose a resource from the library."))
        return _back(request, member)
    resource = form.cleaned_data["resource"]
    try:
        resources.assign(by=request.user, member=member, resource=resource, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(title)s is on %(name)s's plan.") % {"title": resource.title, "name": member.display_name},
        )
    return _back(request, member)


@login_required
@require_POST
def unassign(request, member_pk, assignment_pk):
    member = _open_for_change(request, member_pk, detail="plan resources: remove")
    assignment = get_object_or_404(
        ResourceAssignment.objects.select_related("resource"), pk=assignment_pk, member=member
    )
    resources.unassign(by=request.user, assignment=assignment, request=request)
    messages.success(
        request,
        _("%(title)s is no longer on %(name)s's plan.")
        % {"title": assignment.resource.title, "name": member.display_name},
    )
    return _back(request, member)
