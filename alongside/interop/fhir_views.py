"""`GET /fhir/Patient/<id>/$everything`: a member's record as a FHIR R4 Bundle (`application/fhir+json`).

For the signed-in session (staff past their second factor, as everywhere) or a personal access token with the
"read" scope (`Authorization: Bearer …`; staff tokens are only issued with a second factor). A member the person
may not see answers 404 like one that does not exist; every error is an OperationOutcome. A staff export is
written to the audit log, one entry per category read.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from alongside.accounts import tokens
from alongside.care import policy
from alongside.interop import fhir

FHIR_JSON = "application/fhir+json"
AUDIT_DETAIL = "FHIR export"


def operation_outcome(status: int, code: str, text: str, **headers) -> JsonResponse:
    """A FHIR OperationOutcome with one issue (`code` from the FHIR issue-type value set)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": str(text)}],
    }
    response = JsonResponse(body, status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _unauthenticated(text: str) -> JsonResponse:
    return operation_outcome(401, "login", text, WWW_Authenticate='Bearer realm="alongside"')


def _person(request):
    """The person asking (from their token, else their session), or an OperationOutcome response."""
    header = request.headers.get("Authorization", "")
    if not header:
        if request.user.is_authenticated:
            return request.user
        return _unauthenticated(_("Sign in first, or send a personal access token."))
    scheme, _space, raw = header.partition(" ")
    token = tokens.authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _unauthenticated(_("This token is not valid."))
    if "read" not in token.scopes:
        return operation_outcome(403, "forbidden", _("This token may not %(scope)s.") % {"scope": "read"})
    # As the API does: the token's person is the one asking (and the one the audit log names).
    request.user = token.user
    return token.user


@never_cache
def patient_everything(request, member_id: int):
    if request.method not in ("GET", "HEAD"):
        return operation_outcome(405, "not-supported", _("Only GET is supported here."), Allow="GET, HEAD")
    person = _person(request)
    if isinstance(person, JsonResponse):
        return person
    try:
        member = policy.visible_member_or_404(person, member_id)
    except Http404:
        return operation_outcome(404, "not-found", _("Not found."))
    categories = fhir.categories_for(member, person)
    bundle = fhir.bundle_of(member, fhir.build(member, categories))
    policy.record_reads(request, member, [(category, AUDIT_DETAIL, None) for category in sorted(categories)])
    return JsonResponse(bundle, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("fhir/Patient/<int:member_id>/$everything", patient_everything, name="fhir_patient_everything"),
]
