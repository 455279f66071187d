from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from alongside.monitoring import checkins
from alongside.monitoring.forms import CheckInForm
from alongside.monitoring.models import CheckIn, TagKind


def _require_member(request):
    if not request.user.is_member:
        raise PermissionDenied


@login_required
def checkin(request):
    """Check in: tap a mood, tap Save. Everything else is optional."""
    _require_member(request)
    member = request.user
    form = CheckInForm(
        request.POST or None,
        fields=checkins.fields_for(member),
        activities=list(checkins.tags_for(member, TagKind.ACTIVITY)),
        warning_signs=list(checkins.tags_for(member, TagKind.WARNING_SIGN)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            checkins.record(member, **{key: value for key, value in form.cleaned_data.items() if value not in ("", [])})
            messages.success(request, _("Checked in. Thank you."))
            return redirect("monitoring:history")
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
    return render(request, "monitoring/checkin.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def history(request):
    _require_member(request)
    entries = CheckIn.objects.filter(member=request.user).prefetch_related("tags")
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    return render(request, "monitoring/history.html", {"page": page})
