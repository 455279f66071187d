"""The member's import page (`/me/import/`): choose the source and upload, see what would be stored (a dry run:
counts, the first rows, row errors by line), change the mood or column mapping and look again, then import.
Between the preview and the import the upload waits in a private file named by the preview (`imports.py`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from alongside.accounts.decorators import member_required
from alongside.core.forms import add_domain_errors
from alongside.interop import imports
from alongside.interop.import_forms import ImportForm
from alongside.interop.readers import FileProblem


def _page(request, form, result=None, status=200):
    return render(request, "interop/import.html", {"form": form, "result": result}, status=status)


@member_required
def import_page(request):
    if request.method != "POST":
        return _page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        options = form.options()
    except FileProblem:
        return _page(request, form, status=400)
    member, action = request.user, request.POST.get("action", "preview")
    kept = imports.previewed_run(member, form.cleaned_data["run"]) if form.cleaned_data["run"] else None
    upload = form.cleaned_data["file"]
    if upload is None and kept is None:
        form.add_error("file", _("Choose the file to import."))
        return _page(request, form, status=400)
    if action == "import" and kept is not None and upload is None:
        try:
            result = imports.import_kept(member, kept, options=options, request=request)
        except ValidationError as error:  # the kept upload went stale meanwhile
            add_domain_errors(form, error)
            return _page(request, form, status=400)
        run = result.run
        if run.created or run.already_there:
            messages.success(request, _("%(created)s check-ins imported; %(there)s were already here.") % {
                "created": run.created, "there": run.already_there})  # fmt: skip
            return redirect("monitoring:history")
        return _page(request, ImportForm(initial={"source": run.source}), result, status=400)
    if upload is not None:
        result = imports.preview_upload(member, form.cleaned_data["source"], upload, options=options, request=request)
    else:
        result = imports.preview_again(member, kept, options=options, request=request)
    data = {**form.cleaned_data, "run": result.run.pk, "source": result.run.source}
    data.pop("file", None)
    return _page(request, ImportForm(initial=data), result)


urlpatterns = [path("me/import/", import_page, name="import")]
