from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from alongside.accounts.api import require_scope
from alongside.care import policy
from alongside.care.models import Category
from alongside.core.idempotency import Refused, once_per_key, problem_from
from alongside.monitoring import checkins, instruments, journal, questionnaires
from alongside.monitoring.models import CheckIn, QuestionnaireResponse, TagKind

router = Router(tags=["check-ins"])


class CheckInIn(BaseModel):
    # A plain pydantic model, not ninja's Schema: a request body is plain JSON, and Schema's wrapper for reading
    # attributes of Django objects would cost every check-in about a twentieth of its processor time.
    mood: int = Field(..., ge=0, le=10)
    anxiety: int | None = Field(None, ge=0, le=10)
    energy: int | None = Field(None, ge=0, le=10)
    sleep_hours: float | None = Field(None, ge=0, le=24)
    sleep_quality: int | None = Field(None, ge=0, le=10)
    medication: Literal["taken", "missed", "na", ""] = ""
    cravings: int | None = Field(None, ge=0, le=10)
    note: str = Field("", max_length=checkins.MAX_NOTE_LENGTH)
    activities: list[str] = Field(default_factory=list, max_length=50)
    warning_signs: list[str] = Field(default_factory=list, max_length=50)
    recorded_at: datetime | None = None


class CheckInOut(Schema):
    id: int
    member_id: int
    recorded_at: datetime
    local_date: str
    mood: int
    anxiety: int | None
    energy: int | None
    sleep_hours: float | None
    sleep_quality: int | None
    medication: str
    cravings: int | None
    note: str
    activities: list[str]
    warning_signs: list[str]


class Problem(Schema):
    detail: str
    fields: list[str] = []


def checkin_out(checkin: CheckIn) -> dict:
    # A check-in just recorded knows its tags; one read from the database asks for them.
    tags = getattr(checkin, "tag_list", None)
    if tags is None:
        tags = list(checkin.tags.all())
    return {
        "id": checkin.pk,
        "member_id": checkin.member_id,
        "recorded_at": checkin.recorded_at,
        "local_date": checkin.local_date.isoformat(),
        "mood": checkin.mood,
        "anxiety": checkin.anxiety,
        "energy": checkin.energy,
        "sleep_hours": float(checkin.sleep_hours) if checkin.sleep_hours is not None else None,
        "sleep_quality": checkin.sleep_quality,
        "medication": checkin.medication,
        "cravings": checkin.cravings,
        "note": checkin.note,
        "activities": [tag.label for tag in tags if tag.kind == TagKind.ACTIVITY],
        "warning_signs": [tag.label for tag in tags if tag.kind == TagKind.WARNING_SIGN],
    }


@router.post(
    "/checkins",
    response={201: CheckInOut, 400: Problem, 403: Problem, 409: Problem, 422: Problem},
    summary="Record a check-in (send an Idempotency-Key header)",
)
def create_checkin(request, payload: CheckInIn):
    require_scope(request, "write")
    if not request.user.is_member:
        return Status(403, {"detail": "Only members check in."})
    source = "offline" if request.headers.get("X-Alongside-Offline") == "1" else "api"
    prepared = []

    def check():
        try:
            # The tags are looked up by the statement that stores the check-in (`checkins.store`).
            prepared.append(checkins.prepare(request.user, **payload.model_dump(), source=source, find_tags=False))
        except ValidationError as error:
            return 422, problem_from(error)
        return None

    def create(receipt):
        # The answer is stored for replays exactly as sent the first time, with the new check-in's id, in the
        # write that stores the check-in. `checkin_out` gives the schema's types, so only the datetime needs
        # turning into JSON (as pydantic writes it); the API tests validate the answers.
        sent = []

        def answer(checkin):
            sent[:] = [to_jsonable_python(checkin_out(checkin))]
            return 201, sent[0]

        try:
            checkin = checkins.store(prepared[0], receipt=receipt, answer=answer)
        except ValidationError as error:  # a tag named that the member does not have
            raise Refused(422, problem_from(error)) from None
        return 201, {**sent[0], "id": checkin.pk}

    return once_per_key(request, create, check, stores_answer=True)


@router.get(
    "/checkins",
    response={200: list[CheckInOut], 404: Problem},
    summary="Check-ins, newest first: mine, or a member's I may see (their consent decides)",
)
def list_checkins(
    request,
    member_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(100, ge=1, le=500),
):
    require_scope(request, "read")
    member = request.user
    if member_id is not None and member_id != request.user.pk:
        member = policy.open_member_record(request, member_id, Category.CHECKINS, detail="check-ins (API)")
    rows = CheckIn.objects.filter(member=member).prefetch_related("tags")
    if since:
        rows = rows.filter(recorded_at__gte=since)
    if until:
        rows = rows.filter(recorded_at__lte=until)
    return [checkin_out(checkin) for checkin in rows[:limit]]


class TagOut(Schema):
    label: str
    kind: str


@router.get("/tags", response={200: list[TagOut], 403: Problem}, summary="My activity and warning-sign tags")
def list_tags(request):
    require_scope(request, "read")
    if not request.user.is_member:
        return Status(403, {"detail": "Only members have tags."})
    tags = [*checkins.tags_for(request.user, TagKind.ACTIVITY), *checkins.tags_for(request.user, TagKind.WARNING_SIGN)]
    return [{"label": tag.label, "kind": tag.kind} for tag in tags]


class ResponseIn(Schema):
    instrument: str = Field(..., max_length=30)
    answers: dict[str, int] = Field(..., description='item number to option score, e.g. {"1": 0, "9": 1}')
    followup: str = Field("", max_length=60)
    completed_at: datetime | None = None
    corrects: int | None = None


class ResponseOut(Schema):
    id: int
    instrument: str
    instrument_version: str
    answers: dict[str, int]
    followup: str
    raw_score: int | None
    total: int | None
    band: str
    complete: bool
    is_case: bool | None
    safety_event: bool
    completed_at: datetime
    corrects: int | None


class DueOut(Schema):
    instrument: str
    name: str
    opens_at: datetime
    closes_at: datetime


def response_out(response) -> dict:
    return {
        "id": response.pk,
        "instrument": response.instrument,
        "instrument_version": response.instrument_version,
        "answers": response.answers,
        "followup": response.followup,
        "raw_score": response.raw_score,
        "total": response.total,
        "band": response.band,
        "complete": response.complete,
        "is_case": response.is_case,
        "safety_event": bool(response.safety_items),
        "completed_at": response.completed_at,
        "corrects": response.corrects_id,
    }


@router.post(
    "/questionnaire-responses",
    response={201: ResponseOut, 400: Problem, 403: Problem, 409: Problem, 422: Problem},
    summary="Record a questionnaire response (send an Idempotency-Key header). A correction is a new response.",
    tags=["questionnaires"],
)
def create_response(request, payload: ResponseIn):
    require_scope(request, "write")
    if not request.user.is_member:
        return Status(403, {"detail": "Only members answer questionnaires."})

    def create():
        corrects = None
        if payload.corrects is not None:
            corrects = QuestionnaireResponse.objects.filter(pk=payload.corrects, member=request.user).first()
            if corrects is None:
                return 422, {"detail": "Unknown response to correct.", "fields": ["corrects"]}
        try:
            response, _event = questionnaires.submit(
                request.user,
                payload.instrument,
                payload.answers,
                followup=payload.followup,
                completed_at=payload.completed_at,
                corrects=corrects,
                source="api",
            )
        except ValidationError as error:
            return 422, problem_from(error)
        return 201, ResponseOut.model_validate(response_out(response)).model_dump(mode="json")

    return once_per_key(request, create)


@router.get(
    "/questionnaire-responses",
    response={200: list[ResponseOut], 404: Problem},
    summary="Questionnaire responses, newest first: mine, or a member's I may see",
    tags=["questionnaires"],
)
def list_responses(request, member_id: int | None = None, limit: int = Query(100, ge=1, le=500)):
    require_scope(request, "read")
    member = request.user
    if member_id is not None and member_id != request.user.pk:
        member = policy.open_member_record(request, member_id, Category.QUESTIONNAIRES, detail="questionnaires (API)")
    return [response_out(r) for r in QuestionnaireResponse.objects.filter(member=member)[:limit]]


@router.get(
    "/questionnaires/due",
    response={200: list[DueOut], 403: Problem},
    summary="My questionnaires due now",
    tags=["questionnaires"],
)
def list_due(request):
    require_scope(request, "read")
    if not request.user.is_member:
        return Status(403, {"detail": "Only members answer questionnaires."})
    return [
        {
            "instrument": a.instrument,
            "name": instruments.get(a.instrument).name,
            "opens_at": a.opens_at,
            "closes_at": a.closes_at,
        }
        for a in questionnaires.due(request.user)
    ]


class JournalIn(Schema):
    text: str = Field(..., max_length=journal.MAX_LENGTH)
    prompt: str = Field("", max_length=200)
    shared_with: list[int] = Field(default_factory=list, description="care relationship ids")
    written_at: datetime | None = None


class JournalOut(Schema):
    id: int
    written_at: datetime
    local_date: str
    prompt: str
    text: str
    shared_with: list[int]
    # True when the entry contains words of crisis: the app should show the member their crisis screen now.
    crisis: bool = False


def journal_out(entry) -> dict:
    return {
        "id": entry.pk,
        "written_at": entry.written_at,
        "local_date": entry.local_date.isoformat(),
        "prompt": entry.prompt,
        "text": entry.text,
        "shared_with": sorted(entry.shared_with.values_list("pk", flat=True)),
        "crisis": bool(getattr(entry, "crisis", False)),
    }


@router.post(
    "/journal",
    response={201: JournalOut, 400: Problem, 403: Problem, 409: Problem, 422: Problem},
    summary="Write a journal entry (send an Idempotency-Key header)",
    tags=["journal"],
)
def create_journal_entry(request, payload: JournalIn):
    require_scope(request, "write")
    if not request.user.is_member:
        return Status(403, {"detail": "Only members keep a journal."})

    def create():
        try:
            entry = journal.write(request.user, **payload.dict(), source="api")
        except ValidationError as error:
            return 422, problem_from(error)
        return 201, JournalOut.model_validate(journal_out(entry)).model_dump(mode="json")

    return once_per_key(request, create)


@router.get(
    "/journal",
    response={200: list[JournalOut], 404: Problem},
    summary="My journal entries (optionally matching q), or the entries a member shared with me",
    tags=["journal"],
)
def list_journal(
    request, member_id: int | None = None, q: str = Query("", max_length=200), limit: int = Query(100, ge=1, le=500)
):
    require_scope(request, "read")
    if member_id is None or member_id == request.user.pk:
        return [journal_out(entry) for entry in journal.search(request.user, q, limit=limit)]
    member = policy.open_member_record(request, member_id, Category.JOURNAL, detail="shared journal entries (API)")
    entries = journal.shared_with_person(request.user, member)[:limit]
    # Supporters see whom an entry was shared with only as far as it concerns them.
    return [{**journal_out(entry), "shared_with": []} for entry in entries]
