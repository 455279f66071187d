"""The member's data rights in the API: `GET /api/v1/me/export` answers the same zip as "Download my data"."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from alongside.accounts.api import require_scope
from alongside.interop import rights

router = Router()


class Problem(Schema):
    detail: str
    fields: list[str] = []


@router.get(
    "/me/export",
    response={200: None, 403: Problem},
    summary="Download everything Alongside holds about me (a zip: README, JSON, CSV)",
)
def export(request):
    require_scope(request, "read")
    if not request.user.is_member:
        # Staff never download a member's archive; this is each member's own copy.
        raise HttpError(403, _("Only members download their own data here."))
    response = HttpResponse(content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{rights.archive_name(request.user)}"'
    response["Cache-Control"] = "no-store"
    rights.write_archive(request.user, response, request=request)
    return response
