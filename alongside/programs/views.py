from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.models import Organisation, SettingsVersion, admin_organisation_or_404
from alongside.core.forms import add_domain_errors
from alongside.programs import actions
from alongside.programs.forms import NewProgramForm, ProgramForm
from alongside.programs.models import Program


def _admin_organisation(request, slug) -> Organisation:
    return admin_organisation_or_404(request.user, slug)


def _program(request, slug, program_pk) -> Program:
    organisation = _admin_organisation(request, slug)
    return get_object_or_404(Program, pk=program_pk, organisation=organisation)


@login_required
def program_list(request, slug):
    organisation = _admin_organisation(request, slug)
    form = NewProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = actions.create_program(
                by=request.user, organisation=organisation, name=form.cleaned_data["name"], request=request
            )
            messages.success(
                request, _("%(name)s is ready with sensible defaults. Adjust them below.") % {"name": program}
            )
            return redirect("programs:edit", slug=slug, program_pk=program.pk)
        except ValidationError as error:
            add_domain_errors(form, error, {"name": "name"})
    programs = organisation.programs.prefetch_related("phases").order_by("archived_at", "name")
    return render(
        request,
        "programs/program_list.html",
        {"organisation": organisation, "programs": programs, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def program_edit(request, slug, program_pk):
    program = _program(request, slug, program_pk)
    form = ProgramForm(request.POST or None, initial=ProgramForm.initial_for(program))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_program(
                by=request.user,
                program=program,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                phases=form.phase_names(),
                settings=form.settings_document(),
                request=request,
            )
            messages.success(request, _("Saved."))
            return redirect("programs:edit", slug=slug, program_pk=program.pk)
        except ValidationError as error:
            add_domain_errors(form, error, ProgramForm.ERROR_FIELDS)
    versions = SettingsVersion.objects.filter(subject=f"program:{program.pk}").select_related("changed_by")[:20]
    return render(
        request,
        "programs/program_edit.html",
        {"organisation": program.organisation, "program": program, "form": form, "versions": versions},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def program_archive(request, slug, program_pk):
    program = _program(request, slug, program_pk)
    actions.archive_program(by=request.user, program=program, request=request)
    messages.success(request, _("%(name)s is archived. Its history stays.") % {"name": program})
    return redirect("programs:list", slug=slug)


@login_required
@require_POST
def program_delete(request, slug, program_pk):
    program = _program(request, slug, program_pk)
    try:
        actions.delete_program(by=request.user, program=program, request=request)
        messages.success(request, _("Program deleted."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("programs:list", slug=slug)
