"""The named writes for programs, phases and enrolments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as SettingsError

from alongside.accounts.models import Organisation, Role, admin_organisations
from alongside.accounts.versioning import save_version
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.programs.models import DEFAULT_PHASES, Enrolment, Phase, Program, Transition, TransitionKind
from alongside.programs.settings_schema import ProgramSettings


def _require_admin(by, organisation: Organisation) -> None:
    if not admin_organisations(by).filter(pk=organisation.pk).exists():
        raise PermissionDenied


def validated_settings(data: dict) -> dict:
    """The settings as stored, or ValidationError listing each problem with the setting it is about."""
    try:
        return ProgramSettings.model_validate(data).model_dump()
    except SettingsError as error:
        messages = {}
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "settings"
            text = problem["msg"].removeprefix("Value error, ")
            messages.setdefault(field, []).append(text)
        raise ValidationError(messages) from None


def _clean_phase_names(names: Sequence[str]) -> list[str]:
    cleaned = [name.strip() for name in names]
    if not cleaned or any(not name for name in cleaned):
        raise ValidationError({"phases": _("Every phase needs a name, and a program needs at least one phase.")})
    lowered = [name.lower() for name in cleaned]
    duplicates = sorted({name for name in cleaned if lowered.count(name.lower()) > 1})
    if duplicates:
        raise ValidationError({"phases": _("Phase names must differ: %(names)s") % {"names": ", ".join(duplicates)}})
    return cleaned


def program_document(program: Program) -> dict:
    return {
        "name": program.name,
        "description": program.description,
        "phases": list(program.phases.values_list("name", flat=True)),
        **program.settings,
    }


@transaction.atomic
def create_program(
    *,
    by,
    organisation: Organisation,
    name: str,
    description: str = "",
    phases: Sequence[str] = DEFAULT_PHASES,
    settings: dict | None = None,
    request=None,
) -> Program:
    _require_admin(by, organisation)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the program a name.")})
    if Program.objects.filter(organisation=organisation, name__iexact=name).exists():
        raise ValidationError(
            {"name": _("%(org)s already has a program called %(name)s.") % {"org": organisation, "name": name}}
        )
    program = Program.objects.create(
        organisation=organisation,
        name=name,
        description=description.strip(),
        settings=validated_settings(settings or {}),
    )
    Phase.objects.bulk_create(
        Phase(program=program, name=phase, position=position)
        for position, phase in enumerate(_clean_phase_names(phases), start=1)
    )
    save_version(
        by=by,
        organisation=organisation,
        subject=f"program:{program.pk}",
        before={},
        after=program_document(program),
        request=request,
    )
    return program


@transaction.atomic
def update_program(
    *, by, program: Program, name: str, description: str, phases: Sequence[str], settings: dict, request=None
) -> Program:
    """Change a program's name, phases and settings together: all of it is saved, or none of it.

    Phases keep their identity by name, so members stay in their phase when phases are reordered or
    renamed around them; a phase that still has members cannot be removed.
    """
    _require_admin(by, program.organisation)
    program = Program.objects.select_for_update().get(pk=program.pk)
    before = program_document(program)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the program a name.")})
    clash = Program.objects.filter(organisation=program.organisation, name__iexact=name).exclude(pk=program.pk)
    if clash.exists():
        raise ValidationError({"name": _("Another program is already called %(name)s.") % {"name": name}})
    names = _clean_phase_names(phases)
    stored = validated_settings(settings)
    existing = {phase.name.lower(): phase for phase in program.phases.all()}
    removed = [phase for key, phase in existing.items() if key not in {n.lower() for n in names}]
    occupied = [phase.name for phase in removed if phase.enrolments.filter(ended_at__isnull=True).exists()]
    if occupied:
        raise ValidationError(
            {"phases": _("Move members out of these phases first: %(names)s") % {"names": ", ".join(occupied)}}
        )
    Phase.objects.filter(pk__in=[phase.pk for phase in removed]).delete()
    for position, phase_name in enumerate(names, start=1):
        phase = existing.get(phase_name.lower())
        if phase:
            Phase.objects.filter(pk=phase.pk).update(name=phase_name, position=position)
        else:
            Phase.objects.create(program=program, name=phase_name, position=position)
    program.name, program.description, program.settings = name, description.strip(), stored
    try:
        program.save()
    except IntegrityError:
        raise ValidationError({"name": _("Another program is already called %(name)s.") % {"name": name}}) from None
    save_version(
        by=by,
        organisation=program.organisation,
        subject=f"program:{program.pk}",
        before=before,
        after=program_document(program),
        request=request,
    )
    return program


@transaction.atomic
def archive_program(*, by, program: Program, request=None) -> Program:
    _require_admin(by, program.organisation)
    if program.archived_at is None:
        before = {"archived": False}
        program.archived_at = timezone.now()
        program.save(update_fields=["archived_at"])
        save_version(
            by=by,
            organisation=program.organisation,
            subject=f"program:{program.pk}",
            before=before,
            after={"archived": True},
            request=request,
        )
    return program


@transaction.atomic
def delete_program(*, by, program: Program, request=None) -> None:
    """Only a program nobody was ever enrolled in can be deleted; others are archived to keep their history."""
    _require_admin(by, program.organisation)
    if program.enrolments.exists():
        raise ValidationError(_("Members have taken part in %(name)s, so it can only be archived.") % {"name": program})
    record(
        AuditAction.SETTINGS_CHANGE,
        actor=by,
        request=request,
        organisation=program.organisation,
        detail=f"deleted program {program.name}",
    )
    program.delete()


def _require_roster_access(by, organisation: Organisation) -> None:
    held = by.roles_in(organisation) if by.is_authenticated else set()
    if not held & {Role.ORG_ADMIN, Role.CLINICIAN, Role.CASE_MANAGER}:
        raise PermissionDenied


@transaction.atomic
def enrol(
    *, by, program: Program, member, phase: Phase | None = None, discharge_date: date | None = None, request=None
) -> Enrolment:
    """Enrol a member of the organisation (org admins, clinicians and case managers may)."""
    _require_roster_access(by, program.organisation)
    if program.archived_at:
        raise ValidationError(_("%(name)s is archived.") % {"name": program})
    if Role.MEMBER not in member.roles_in(program.organisation):
        raise ValidationError(_("This person is not a member of the organisation."))
    phase = phase or program.phases.first()
    if phase and phase.program_id != program.pk:
        raise ValidationError({"phase": _("Choose a phase of this program.")})
    enrolment, created = Enrolment.objects.current().get_or_create(
        program=program, member=member, defaults={"phase": phase, "discharge_date": discharge_date}
    )
    if created:
        record(
            AuditAction.ENROLMENT_CHANGE,
            actor=by,
            request=request,
            member=member,
            organisation=program.organisation,
            detail=f"enrolled in {program.name} ({phase})",
        )
    return enrolment


@transaction.atomic
def change_enrolment(
    *, by, enrolment: Enrolment, phase: Phase | None, discharge_date: date | None, request=None
) -> Enrolment:
    _require_roster_access(by, enrolment.program.organisation)
    if phase and phase.program_id != enrolment.program_id:
        raise ValidationError({"phase": _("Choose a phase of this program.")})
    if discharge_date and discharge_date > timezone.localdate() + timedelta(days=366):
        raise ValidationError({"discharge_date": _("That discharge date is more than a year away.")})
    changes = []
    if enrolment.phase_id != (phase.pk if phase else None):
        changes.append(f"phase {enrolment.phase} → {phase}")
    if enrolment.discharge_date != discharge_date:
        changes.append(f"discharged {enrolment.discharge_date or '—'} → {discharge_date or '—'}")
    if changes:
        enrolment.phase, enrolment.discharge_date = phase, discharge_date
        enrolment.save(update_fields=["phase", "discharge_date"])
        record(
            AuditAction.ENROLMENT_CHANGE,
            actor=by,
            request=request,
            member=enrolment.member,
            organisation=enrolment.program.organisation,
            detail="; ".join(changes),
        )
    return enrolment


# Transitions: a member is discharged from treatment, steps down, or moves to another phase or graduates.
MAX_TRANSITION_NOTE = 2000
TRANSITION_FUTURE_DAYS = 30
# Transitions that move the member to another phase, and so must say which.
PHASE_MOVES = (TransitionKind.STEP_DOWN, TransitionKind.PHASE, TransitionKind.GRADUATION)
TRANSITION_ROLES = (Role.CLINICIAN, Role.CASE_MANAGER)


def transition_checklist(program: Program) -> list[str]:
    """The items a care team goes through when a member of this program moves on, as stored (untranslated
    defaults or the program's own words); show them through gettext."""
    return list(program.config.transition_checklist)


def member_today(member) -> date:
    return timezone.localdate(timezone=ZoneInfo(member.time_zone))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@transaction.atomic
def record_transition(
    *,
    by,
    enrolment: Enrolment,
    kind: TransitionKind | str,
    to_phase: Phase | None = None,
    effective_date: date,
    checklist_done: Iterable[str] = (),
    note: str = "",
    request=None,
) -> Transition:
    """Record that a member moves on within a program, and move their enrolment with it, together.

    A discharge sets the enrolment's discharge date (and its phase too, if one is given); a step-down, phase
    change or graduation moves the enrolment to `to_phase`. The whole checklist is stored, each item ticked or
    not. Clinicians and case managers of the program's organisation may record one; which members they may do
    it for (their own, who share their plan with them) is the care policy's decision, made by the caller.
    The staff note is encrypted at rest and never written to the audit log.
    """
    program = enrolment.program
    held = by.roles_in(program.organisation) if by.is_authenticated else set()
    if not held & set(TRANSITION_ROLES):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    try:
        kind = TransitionKind(kind)
    except ValueError:
        raise ValidationError({"kind": _("Choose what kind of move this is.")}) from None
    if to_phase is not None and to_phase.program_id != program.pk:
        errors.setdefault("to_phase", []).append(_("Choose a phase of this program."))
    elif to_phase is None and kind in PHASE_MOVES:
        errors.setdefault("to_phase", []).append(_("Choose the phase they move to."))
    if isinstance(effective_date, datetime):
        effective_date = effective_date.date()
    if not isinstance(effective_date, date):
        errors.setdefault("effective_date", []).append(_("Give the date it takes effect."))
    else:
        today = member_today(enrolment.member)
        if effective_date < _year_before(today):
            errors.setdefault("effective_date", []).append(_("That date is more than a year ago."))
        elif effective_date > today + timedelta(days=TRANSITION_FUTURE_DAYS):
            errors.setdefault("effective_date", []).append(
                _("That date is more than %(n)s days away.") % {"n": TRANSITION_FUTURE_DAYS}
            )
    note = (note or "").replace("\r\n", "\n").strip()
    if "\x00" in note:
        errors.setdefault("note", []).append(_("This text contains a character that cannot be stored."))
    elif len(note) > MAX_TRANSITION_NOTE:
        errors.setdefault("note", []).append(
            _("Keep the note under %(limit)s characters (it has %(n)s).")
            % {"limit": MAX_TRANSITION_NOTE, "n": len(note)}
        )
    items = transition_checklist(program)
    ticked = {str(label) for label in checklist_done}
    if ticked - set(items):
        errors.setdefault("checklist", []).append(_("Tick items of this program's checklist only."))
    if errors:
        raise ValidationError(errors)

    # Lock the enrolment: two people recording at once must not both start from the same phase.
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.ended_at is not None:
        raise ValidationError(_("This enrolment has ended."))
    from_phase = enrolment.phase
    if kind in PHASE_MOVES and to_phase.pk == enrolment.phase_id:
        raise ValidationError({"to_phase": _("They are already in %(phase)s.") % {"phase": to_phase}})
    changed = []
    if to_phase is not None and to_phase.pk != enrolment.phase_id:
        enrolment.phase = to_phase
        changed.append("phase")
    if kind == TransitionKind.DISCHARGE and enrolment.discharge_date != effective_date:
        enrolment.discharge_date = effective_date
        changed.append("discharge_date")
    if changed:
        enrolment.save(update_fields=changed)
    transition = Transition.objects.create(
        enrolment=enrolment,
        kind=kind,
        from_phase=from_phase,
        to_phase=to_phase,
        effective_date=effective_date,
        checklist=[{"label": item, "done": item in ticked} for item in items],
        note=note,
        recorded_by=by,
    )
    moved = to_phase is not None and to_phase != from_phase
    phases = f"{from_phase or '—'} → {to_phase}" if moved else f"{from_phase or '—'}"
    record(
        AuditAction.CHANGE,
        actor=by,
        request=request,
        member=enrolment.member,
        organisation=program.organisation,
        category="plan",
        actor_roles=",".join(sorted(held & set(TRANSITION_ROLES))),
        detail=(
            f"{kind.value} in {program.name}: {phases} on {effective_date.isoformat()}; "
            f"checklist {len(ticked)} of {len(items)} done"
        ),
    )
    return transition
