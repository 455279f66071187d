"""The member's "My data" page (`/me/data/`): download everything, withdraw all sharing, delete the account.
Every write is made by `rights.py`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.care.models import CareRelationship
from alongside.core.forms import add_domain_errors
from alongside.interop import rights
from alongside.interop.rights_forms import DeleteAccountForm


def _page(request, *, delete_form=None, status=200):
    member = request.user
    team = list(CareRelationship.objects.care_team_of(member))
    context = {
        "delete_form": delete_form or DeleteAccountForm(),
        "team": team,
        "sharing_with": [r for r in team if r.shared_categories or r.safety_alerts],
        "retention_days": rights.retention_days_for(member),
        "refusal": rights.refusal(member),
        "retained": rights.RETAINED_DESCRIPTIONS,
    }
    return render(request, "interop/my_data.html", context, status=status)


@member_required
def my_data(request):
    return _page(request)


@member_required
def download(request):
    response = HttpResponse(content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{rights.archive_name(request.user)}"'
    response["Cache-Control"] = "no-store"
    rights.write_archive(request.user, response, request=request)
    return response


@member_required
@require_POST
def withdraw(request):
    count = rights.withdraw_all_consent(request.user, request=request)
    if count:
        messages.success(request, _("Done. Nobody on your care team sees your information now."))
    else:
        messages.info(request, _("You were not sharing anything with anyone."))
    return redirect("interop:my_data")


@member_required
@require_POST
def delete(request):
    form = DeleteAccountForm(request.POST)
    if form.is_valid():
        try:
            pending = rights.delete_account(request.user, password=form.cleaned_data["password"], request=request)
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            # The account is gone: end this session without the sign-out signal, which would log a person that
            # no longer exists.
            request.session.flush()
            request.user = AnonymousUser()
            return render(request, "interop/deleted.html", {"pending": pending})
    return _page(request, delete_form=form, status=400)


urlpatterns = [
    path("me/data/", my_data, name="my_data"),
    path("me/data/download/", download, name="download"),
    path("me/data/withdraw-consent/", withdraw, name="withdraw_consent"),
    path("me/data/delete/", delete, name="delete_account"),
]
