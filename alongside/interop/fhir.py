"""A member's record as a FHIR R4 Bundle (`patient_bundle`), built from the other apps' records.

What a viewer gets follows the authorization policy: the member everything; a supporter (or an org admin) the
Patient and CareTeam, and then only the resources of the categories the member shares with them. The journal
and check-in notes are free text the member wrote for themselves and are never part of the export.

Choices, so that other systems can rely on them:

- The Bundle is a `searchset` (what `Patient/$everything` answers), every entry a match, all at once (no
  paging). Each resource has a stable, readable id (`checkin-12-mood`, `qr-7-total`); each entry's fullUrl is
  a `urn:uuid:` made from the resource type and id (UUID version 5), and references use the same URNs, so the
  bundle is complete in itself and the same record always exports to the same identifiers.
- The built-in questionnaires are Questionnaire resources with the canonical URL `QUESTIONNAIRE_BASE/<code>`;
  responses name them as `<url>|<version>`. Item and answer codes come from the instrument files (LOINC for
  PHQ-9 and GAD-7; the project's instrument code system for WHO-5); each answer carries its score as the
  `ordinalValue` extension.
- Check-in scales are Observations coded in `CHECKIN_SYSTEM`; medication answers in `MEDICATION_SYSTEM`.
- A response later corrected (a correction is a new response) is exported as `entered-in-error`, its
  correction as the current one.

The resources are validated with `fhir.resources` (its R4B models: R4B changed nothing in the resources used
here) by `validate`, which the tests run on every resource.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils import timezone

from alongside.care import plan as care_plan
from alongside.care import policy
from alongside.care.models import Category, PlanVersion
from alongside.care.plan_sections import LINES, SECTIONS, TEXT
from alongside.goals.models import Goal, GoalStatus, Milestone
from alongside.monitoring import instruments
from alongside.monitoring.models import CheckIn, QuestionnaireResponse
from alongside.schedule.models import Occurrence, OccurrenceStatus

# The project's own code systems and identifiers. These URIs are part of the export's meaning: keep them.
NAMESPACE = "https://alongside.example/fhir"
CHECKIN_SYSTEM = f"{NAMESPACE}/CodeSystem/checkin"
MEDICATION_SYSTEM = f"{NAMESPACE}/CodeSystem/checkin-medication"
CARE_ROLE_SYSTEM = f"{NAMESPACE}/CodeSystem/care-role"
GOAL_AREA_SYSTEM = f"{NAMESPACE}/CodeSystem/goal-area"
APPOINTMENT_KIND_SYSTEM = f"{NAMESPACE}/CodeSystem/appointment-kind"
PLAN_SECTION_SYSTEM = f"{NAMESPACE}/CodeSystem/plan-section"
MEMBER_IDENTIFIER_SYSTEM = f"{NAMESPACE}/NamingSystem/member"
QUESTIONNAIRE_BASE = f"{NAMESPACE}/Questionnaire"
# The UUID namespace of the fullUrls (urn:uuid:…): uuid5 of this and "Type/id".
URN_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE)

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
UCUM = "http://unitsofmeasure.org"

EXPORTED_CATEGORIES = (
    Category.PROFILE,
    Category.PLAN,
    Category.GOALS,
    Category.APPOINTMENTS,
    Category.QUESTIONNAIRES,
    Category.CHECKINS,
)

# Check-in scales: field, code, display. Scales are 0-10; sleep hours are a quantity in hours.
CHECKIN_SCALES = (
    ("mood", "mood", "Mood (0-10)"),
    ("anxiety", "anxiety", "Anxiety (0-10)"),
    ("energy", "energy", "Energy (0-10)"),
    ("sleep_hours", "sleep-hours", "Hours of sleep"),
    ("sleep_quality", "sleep-quality", "Sleep quality (0-10)"),
    ("cravings", "cravings", "Cravings or urges (0-10)"),
    ("medication", "medication", "Medication taken as prescribed"),
)
MEDICATION_DISPLAY = {"taken": "Taken", "missed": "Not taken", "na": "Not applicable"}

# Goal status to FHIR Goal.lifecycleStatus and Goal.achievementStatus (None: not stated).
GOAL_LIFECYCLE = {
    GoalStatus.SUGGESTED: ("proposed", None),
    GoalStatus.ACTIVE: ("active", "in-progress"),
    GoalStatus.ACHIEVED: ("completed", "achieved"),
    GoalStatus.PAUSED: ("on-hold", "in-progress"),
    GoalStatus.LET_GO: ("cancelled", "not-achieved"),
    GoalStatus.DECLINED: ("rejected", None),
}
# Occurrence status to FHIR Appointment.status and the member's participation status.
APPOINTMENT_STATUS = {
    OccurrenceStatus.SCHEDULED: ("booked", "needs-action"),
    OccurrenceStatus.CONFIRMED: ("booked", "accepted"),
    OccurrenceStatus.RESCHEDULE_REQUESTED: ("pending", "tentative"),
    OccurrenceStatus.RESCHEDULED: ("booked", "needs-action"),
    OccurrenceStatus.ATTENDED: ("fulfilled", "accepted"),
    OccurrenceStatus.MISSED: ("noshow", "accepted"),
    OccurrenceStatus.CANCELLED: ("cancelled", "declined"),
}


# Small helpers -----------------------------------------------------------------------------------------------


def instant(moment: datetime) -> str:
    """An instant in UTC, ISO 8601 with a Z, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def urn(resource_type: str, resource_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(URN_NAMESPACE, f'{resource_type}/{resource_id}')}"


def reference(resource_type: str, resource_id: str, display: str = "") -> dict:
    ref = {"reference": urn(resource_type, resource_id)}
    if display:
        ref["display"] = display
    return ref


def questionnaire_url(instrument: instruments.Instrument) -> str:
    return f"{QUESTIONNAIRE_BASE}/{instrument.code}"


def _coding(system: str, code: str, display: str = "") -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _option_coding(instrument: instruments.Instrument, option: instruments.Option) -> dict:
    if option.loinc:
        coding = _coding(instruments.LOINC, option.loinc, option.label)
    else:
        coding = _coding(instrument.codes.system, f"{instrument.code}-answer-{option.score}", option.label)
    coding["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": option.score}]
    return coding


def _item_coding(instrument: instruments.Instrument, item: instruments.Item) -> dict:
    if item.loinc:
        return _coding(instruments.LOINC, item.loinc, item.text)
    return _coding(instrument.codes.system, f"{instrument.code}-{item.number}", item.text)


def _panel_coding(instrument: instruments.Instrument) -> dict:
    return _coding(instrument.codes.system, instrument.codes.panel, instrument.name)


# Resources --------------------------------------------------------------------------------------------------


def patient_resource(member) -> dict:
    return {
        "resourceType": "Patient",
        "id": str(member.pk),
        "identifier": [{"system": MEMBER_IDENTIFIER_SYSTEM, "value": str(member.pk)}],
        "active": member.is_active,
        "name": [{"text": member.display_name}],
    }


def care_team_resource(member, relationships) -> dict:
    patient = reference("Patient", str(member.pk), member.display_name)
    participants = []
    for relationship in relationships:
        participants.append(
            {
                "role": [
                    {
                        "coding": [_coding(CARE_ROLE_SYSTEM, relationship.role, str(relationship.get_role_display()))],
                        "text": str(relationship.get_role_display()),
                    }
                ],
                "member": {"display": relationship.staff.display_name},
                "onBehalfOf": {"display": relationship.organisation.name},
                "period": {"start": instant(relationship.started_at)},
            }
        )
    resource = {
        "resourceType": "CareTeam",
        "id": f"careteam-{member.pk}",
        "status": "active",
        "name": "Care team",
        "subject": patient,
        "participant": participants,
    }
    if not participants:
        del resource["participant"]
    return resource


def care_plan_resource(member, version: PlanVersion) -> dict:
    """The newest version of the aftercare and safety plan: items of list sections as activities (coded with
    their section), every other filled section as a note with the section's title."""
    content = care_plan.content_of(version)
    activities, notes = [], []
    for section in SECTIONS:
        value = content.get(section.key)
        if not value:
            continue
        if section.kind == LINES:
            for item in value:
                activities.append(
                    {
                        "detail": {
                            "code": {
                                "coding": [_coding(PLAN_SECTION_SYSTEM, section.key, str(section.title))],
                                "text": str(section.title),
                            },
                            "status": "in-progress",
                            "description": item,
                        }
                    }
                )
        elif section.kind == TEXT:
            notes.append({"text": f"{section.title}: {value}"})
        else:
            lines = "\n".join(f"- {care_plan.item_text(section, item)}" for item in value)
            notes.append({"text": f"{section.title}:\n{lines}"})
    resource = {
        "resourceType": "CarePlan",
        "id": f"careplan-{version.plan_id}",
        "meta": {"versionId": str(version.number), "lastUpdated": instant(version.saved_at)},
        "status": "active",
        "intent": "plan",
        "title": "Aftercare and safety plan",
        "subject": reference("Patient", str(member.pk), member.display_name),
        "created": instant(version.plan.created_at),
        "careTeam": [reference("CareTeam", f"careteam-{member.pk}")],
    }
    if version.author is not None:
        resource["author"] = {"display": version.author.display_name}
    if version.plan.review_due:
        resource["period"] = {"end": version.plan.review_due.isoformat()}
    if activities:
        resource["activity"] = activities
    if notes:
        resource["note"] = notes
    return resource


def goal_resource(member, goal: Goal, zone: ZoneInfo) -> dict:
    lifecycle, achievement = GOAL_LIFECYCLE[GoalStatus(goal.status)]
    resource = {
        "resourceType": "Goal",
        "id": f"goal-{goal.pk}",
        "lifecycleStatus": lifecycle,
        "category": [{"coding": [_coding(GOAL_AREA_SYSTEM, goal.area)], "text": goal.area}],
        "description": {"text": goal.title},
        "subject": reference("Patient", str(member.pk), member.display_name),
        "startDate": goal.created_at.astimezone(zone).date().isoformat(),
        "statusDate": goal.status_changed_at.astimezone(zone).date().isoformat(),
    }
    if achievement:
        resource["achievementStatus"] = {"coding": [_coding(GOAL_ACHIEVEMENT, achievement)]}
    targets = []
    if goal.target or goal.target_date:
        target = {"measure": {"text": "What done looks like"}}
        if goal.target:
            target["detailString"] = goal.target
        if goal.target_date:
            target["dueDate"] = goal.target_date.isoformat()
        targets.append(target)
    outcomes = []
    for milestone in goal.milestones.all():
        target = {"measure": {"text": f"Milestone: {milestone.title}"}, "detailBoolean": True}
        if milestone.due_date:
            target["dueDate"] = milestone.due_date.isoformat()
        targets.append(target)
        if milestone.achieved_at:
            day = milestone.achieved_at.astimezone(zone).date().isoformat()
            outcomes.append({"text": f"Milestone reached on {day}: {milestone.title}"})
    if targets:
        resource["target"] = targets
    if outcomes:
        resource["outcomeCode"] = outcomes
    if goal.why:
        resource["note"] = [{"text": goal.why}]
    return resource


def appointment_resource(member, occurrence: Occurrence) -> dict:
    appointment = occurrence.appointment
    status, member_status = APPOINTMENT_STATUS[OccurrenceStatus(occurrence.status)]
    participants = [
        {"actor": reference("Patient", str(member.pk), member.display_name), "status": member_status},
    ]
    if appointment.staff is not None:
        participants.append({"actor": {"display": appointment.staff.display_name}, "status": "accepted"})
    resource = {
        "resourceType": "Appointment",
        "id": f"appointment-{occurrence.pk}",
        "status": status,
        "appointmentType": {
            "coding": [_coding(APPOINTMENT_KIND_SYSTEM, appointment.kind, str(appointment.get_kind_display()))]
        },
        "description": appointment.title,
        "start": instant(occurrence.start),
        "end": instant(occurrence.end),
        "minutesDuration": max(1, int((occurrence.end - occurrence.start).total_seconds() // 60)),
        "created": instant(appointment.created_at),
        "participant": participants,
    }
    if occurrence.status == OccurrenceStatus.CANCELLED and occurrence.reason:
        resource["cancelationReason"] = {"text": occurrence.reason}
    return resource


def questionnaire_resource(instrument: instruments.Instrument) -> dict:
    options = [{"valueCoding": _option_coding(instrument, option)} for option in instrument.options]
    items = [
        {
            "linkId": str(item.number),
            "code": [_item_coding(instrument, item)],
            "text": item.text,
            "type": "choice",
            "required": True,
            "answerOption": options,
        }
        for item in instrument.items
    ]
    if instrument.followup is not None:
        items.append(
            {
                "linkId": "followup",
                "text": instrument.followup.text,
                "type": "choice",
                "required": False,
                "answerOption": [{"valueString": option.label} for option in instrument.followup.options],
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": f"questionnaire-{instrument.code}",
        "url": questionnaire_url(instrument),
        "version": instrument.version,
        "name": instrument.name.replace("-", ""),
        "title": instrument.name,
        "status": "active",
        "description": instrument.stem,
        "copyright": instrument.licence,
        "code": [_panel_coding(instrument)],
        "item": items,
    }


def questionnaire_response_resource(member, response: QuestionnaireResponse, instrument, corrected: bool) -> dict:
    by_score = {option.score: option for option in instrument.options}
    answers = {int(number): score for number, score in response.answers.items()}
    items = []
    for item in instrument.items:
        entry = {"linkId": str(item.number), "text": item.text}
        option = by_score.get(answers.get(item.number))
        if option is not None:
            entry["answer"] = [{"valueCoding": _option_coding(instrument, option)}]
        items.append(entry)
    if response.followup and instrument.followup is not None:
        items.append(
            {"linkId": "followup", "text": instrument.followup.text, "answer": [{"valueString": response.followup}]}
        )
    patient = reference("Patient", str(member.pk), member.display_name)
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{response.pk}",
        "questionnaire": f"{questionnaire_url(instrument)}|{instrument.version}",
        "status": "entered-in-error" if corrected else "completed",
        "subject": patient,
        "authored": instant(response.completed_at),
        "author": patient,
        "source": patient,
        "item": items,
    }


def _observation(member, resource_id: str, code: dict, effective: datetime, category: str, status="final") -> dict:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": status,
        "category": [{"coding": [_coding(OBSERVATION_CATEGORY, category)]}],
        "code": code,
        "subject": reference("Patient", str(member.pk), member.display_name),
        "effectiveDateTime": instant(effective),
        "issued": instant(effective),
        "performer": [reference("Patient", str(member.pk), member.display_name)],
    }


def total_observation(member, response: QuestionnaireResponse, instrument, corrected: bool) -> dict:
    code = {
        "coding": [_coding(instrument.codes.system, instrument.codes.total, f"{instrument.name} total score")],
        "text": f"{instrument.name} total score",
    }
    status = "entered-in-error" if corrected else "final"
    resource = _observation(member, f"qr-{response.pk}-total", code, response.completed_at, "survey", status)
    resource["valueInteger"] = response.total
    if response.band:
        resource["interpretation"] = [{"text": response.band}]
    resource["derivedFrom"] = [reference("QuestionnaireResponse", f"qr-{response.pk}")]
    return resource


def checkin_observations(member, checkin: CheckIn) -> list[dict]:
    observations = []
    for field, code, display in CHECKIN_SCALES:
        value = getattr(checkin, field)
        if value is None or value == "":
            continue
        concept = {"coding": [_coding(CHECKIN_SYSTEM, code, display)], "text": display}
        resource = _observation(member, f"checkin-{checkin.pk}-{code}", concept, checkin.recorded_at, "survey")
        if field == "sleep_hours":
            resource["valueQuantity"] = {"value": float(value), "unit": "h", "system": UCUM, "code": "h"}
        elif field == "medication":
            resource["valueCodeableConcept"] = {
                "coding": [_coding(MEDICATION_SYSTEM, value, MEDICATION_DISPLAY.get(value, value))]
            }
        else:
            resource["valueInteger"] = int(value)
        observations.append(resource)
    return observations


# The bundle -------------------------------------------------------------------------------------------------


def visible_categories(member, viewer) -> set[str]:
    """The categories of the member's record the viewer gets in an export. Raises Http404 for a viewer who may
    not see the member at all (as every page does, so that existence does not leak)."""
    policy.visible_member_or_404(viewer, member.pk, Category.PROFILE)
    return categories_for(member, viewer)


def categories_for(member, viewer) -> set[str]:
    """As `visible_categories`, for a member the policy has already let the viewer see."""
    if viewer.pk == member.pk:
        return {category.value for category in EXPORTED_CATEGORIES}
    shared = policy.categories_shared_with(viewer, member)
    return {Category.PROFILE.value} | {category.value for category in EXPORTED_CATEGORIES if category.value in shared}


def build(member, categories: set[str]) -> list[dict]:
    """The resources of the member's record in the given categories, in a stable order, a few queries in all
    (one per kind of record), whatever the size of the record."""
    zone = ZoneInfo(member.time_zone)
    resources = [patient_resource(member)]
    if Category.PROFILE.value in categories:
        team = policy.live_team(member).select_related("staff", "organisation").order_by("started_at", "pk")
        resources.append(care_team_resource(member, team))
    if Category.PLAN.value in categories:
        version = (
            PlanVersion.objects.filter(plan__member=member).select_related("plan", "author").order_by("-number").first()
        )
        if version is not None:
            resources.append(care_plan_resource(member, version))
    if Category.GOALS.value in categories:
        goals = (
            Goal.objects.filter(member=member)
            .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("position", "pk")))
            .order_by("created_at", "pk")
        )
        resources.extend(goal_resource(member, goal, zone) for goal in goals)
    if Category.APPOINTMENTS.value in categories:
        occurrences = (
            Occurrence.objects.filter(appointment__member=member)
            .select_related("appointment__staff")
            .order_by("start", "pk")
        )
        resources.extend(appointment_resource(member, occurrence) for occurrence in occurrences)
    if Category.QUESTIONNAIRES.value in categories:
        resources.extend(_questionnaire_resources(member))
    if Category.CHECKINS.value in categories:
        checkins = CheckIn.objects.filter(member=member).order_by("recorded_at", "pk").defer("note")
        for checkin in checkins:
            resources.extend(checkin_observations(member, checkin))
    return resources


def _questionnaire_resources(member) -> list[dict]:
    builtin = instruments.load_builtin()
    responses = list(
        QuestionnaireResponse.objects.filter(member=member, instrument__in=list(builtin)).order_by("completed_at", "pk")
    )
    corrected = {response.corrects_id for response in responses if response.corrects_id}
    used = [code for code in builtin if any(response.instrument == code for response in responses)]
    resources = [questionnaire_resource(builtin[code]) for code in used]
    for response in responses:
        instrument = builtin[response.instrument]
        is_corrected = response.pk in corrected
        resources.append(questionnaire_response_resource(member, response, instrument, is_corrected))
        if response.total is not None:
            resources.append(total_observation(member, response, instrument, is_corrected))
    return resources


def bundle_of(member, resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "id": f"everything-{member.pk}",
        "meta": {"lastUpdated": instant(timezone.now())},
        "type": "searchset",
        "timestamp": instant(timezone.now()),
        "total": len(resources),
        "entry": [
            {
                "fullUrl": urn(resource["resourceType"], resource["id"]),
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


def patient_bundle(member, *, viewer) -> dict:
    """The member's record as a FHIR R4 Bundle of JSON-ready dicts, with what `viewer` may see of it.

    Raises Http404 for a viewer who may not see the member. Writes nothing: a staff export is audited by the
    caller (`fhir_views` does, one entry per category read)."""
    return bundle_of(member, build(member, visible_categories(member, viewer)))


def validate(resource: dict):
    """The resource checked against the FHIR model of its type (fhir.resources, R4B); raises on a mistake."""
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)
