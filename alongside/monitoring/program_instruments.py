"""Questionnaires a program adds to the built-in PHQ-9, GAD-7 and WHO-5, and which ones a member can answer."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from alongside.accounts.models import admin_organisations
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.monitoring import instruments
from alongside.monitoring.models import ProgramInstrument
from alongside.programs.models import Enrolment, Program

MAX_DEFINITION_BYTES = 200_000


@transaction.atomic
def add(*, by, program: Program, definition: str, request=None) -> ProgramInstrument:
    """Check the definition file and add it to the program; a clear message says what is wrong otherwise."""
    if not admin_organisations(by).filter(pk=program.organisation_id).exists():
        raise PermissionDenied
    if len(definition.encode()) > MAX_DEFINITION_BYTES:
        raise ValidationError({"definition": _("That file is too large for a questionnaire definition.")})
    try:
        instrument = instruments.parse(definition, source=_("the uploaded definition"))
    except instruments.InstrumentError as error:
        raise ValidationError({"definition": str(error)}) from None
    if instrument.code in instruments.load_builtin():
        raise ValidationError(
            {"definition": _("%(code)s is a built-in questionnaire; choose another code.") % {"code": instrument.code}}
        )
    if ProgramInstrument.objects.filter(program=program, code=instrument.code).exists():
        raise ValidationError(
            {
                "definition": _("%(program)s already has a questionnaire with the code %(code)s.")
                % {"program": program, "code": instrument.code}
            }
        )
    added = ProgramInstrument.objects.create(
        program=program, code=instrument.code, name=instrument.name, definition=definition, added_by=by
    )
    detail = f"program:{program.pk}: added questionnaire {instrument.code} version {instrument.version}"
    record(AuditAction.SETTINGS_CHANGE, actor=by, request=request, organisation=program.organisation, detail=detail)
    return added


def for_member(member) -> dict[str, instruments.Instrument]:
    """The built-in questionnaires and those of the member's current programs."""
    available = instruments.load_builtin()
    programs = Enrolment.objects.current().filter(member=member).values("program")
    for added in ProgramInstrument.objects.filter(program__in=programs).order_by("added_at"):
        available.setdefault(added.code, instruments.parse(added.definition, source=added.code))
    return available
