"""Idempotency keys for API creates, after the IETF "Idempotency-Key HTTP header" draft.

The client sends a unique `Idempotency-Key` with each create. The first request with a key runs and its
answer is stored together with a fingerprint of the request; a retry with the same key and the same request
gets the stored answer (nothing is created twice), and the same key with a different request is refused with
409. The create and the stored answer commit together (in one transaction, or for a check-in in one
statement), so a crash between them cannot leave one without the other. Only successful answers are stored:
a request refused for bad input can be corrected and sent again with the same key.

(The existing Django package for this targets Django REST Framework on older Django releases and does not
compare request bodies, so this small mechanism is Alongside's own.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.core import crypto, sql
from alongside.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEEP_FOR = timedelta(days=7)


class IdempotencyProblem(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode() + b"\0")
    try:
        # The same JSON written with other spacing or key order is the same request.
        digest.update(json.dumps(json.loads(request.body or b"null"), sort_keys=True).encode())
    except ValueError:
        digest.update(request.body)
    return digest.hexdigest()


@dataclass(frozen=True)
class Receipt:
    """An Idempotency-Key as a create stores it: whose key, the key, and the fingerprint of the request."""

    user_id: int
    key: str
    fingerprint: str

    def answer(self, status: int, body: dict) -> IdempotencyRecord:
        """The stored answer to this key's request (sealed), not yet saved."""
        return IdempotencyRecord(
            user_id=self.user_id, key=self.key, fingerprint=self.fingerprint, status=status, body=seal(body)
        )


def seal(body: dict) -> str:
    """An answer as it is stored: its JSON encrypted (it may carry a note or a journal entry's text)."""
    return crypto.encrypt(json.dumps(body, separators=(",", ":")))


def opened(record: IdempotencyRecord) -> dict:
    """A stored answer as it was sent, with the id of what was created when it was stored apart."""
    body = json.loads(crypto.decrypt(record.body))
    if record.created_id is not None:
        body["id"] = record.created_id
    return body


def run_once(
    request,
    create: Callable[..., tuple[int, dict]],
    check: Callable[[], tuple[int, dict] | None] | None = None,
    *,
    stores_answer: bool = False,
) -> tuple[int, dict]:
    """Run `create` (returning status and JSON body) at most once per Idempotency-Key of this person.

    `check`, when given, runs first and outside the transaction: the validation and reads that need no write
    lock (on SQLite the transaction holds the database's one write lock, so the less it does the better). It
    returns a refusal (status and body), or None to go on.

    Usually `create()` runs in a transaction and its answer is stored after it in the same transaction. With
    `stores_answer`, `create(receipt)` stores `receipt.answer(...)` itself, all or nothing with what it
    creates (the check-in write does it in one statement), and either succeeds or raises: `Refused` for a
    refusal found only then, which counts as one from `check` does."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise IdempotencyProblem(400, _("Send an Idempotency-Key header: a new unique value for each new item."))
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyProblem(400, _("The Idempotency-Key header is too long (at most 255 characters)."))
    print_ = fingerprint(request)
    user = request.user

    def replay(record: IdempotencyRecord) -> tuple[int, dict]:
        if record.fingerprint != print_:
            raise IdempotencyProblem(
                409, _("This Idempotency-Key was already used for a different request. Use a new key.")
            )
        try:
            return record.status, opened(record)
        except crypto.DecryptionError:
            # Sealed with a key since removed (docs/operations.md, rotating the key): the item was created.
            raise IdempotencyProblem(
                409, _("This Idempotency-Key was already used, and its answer is no longer kept. Use a new key.")
            ) from None

    def stored() -> IdempotencyRecord | None:
        return IdempotencyRecord.objects.filter(user=user, key=key).first()

    # A refusal before the create counts only if the key has no stored answer (as a refusal by the create).
    refusal = check() if check is not None else None
    if refusal is not None:
        existing = stored()
        return replay(existing) if existing is not None else refusal
    # Most keys are new, so the create runs first and the stored answer is inserted in the same transaction;
    # a key seen before makes that insert fail, which rolls the create back, and the stored answer is replayed.
    receipt = Receipt(user.pk, key, print_)
    try:
        if stores_answer:
            status, body = create(receipt)
        else:
            with transaction.atomic():
                status, body = create()
                if 200 <= status < 300:
                    sql.insert(receipt.answer(status, body))
                elif IdempotencyRecord.objects.filter(user=user, key=key).exists():
                    raise _SeenBefore
    except Refused as refusal:
        existing = stored()
        return replay(existing) if existing is not None else (refusal.status, refusal.body)
    except (IntegrityError, _SeenBefore):
        existing = stored()
        if existing is None:
            raise
        return replay(existing)
    return status, body


class Refused(Exception):
    """A create's refusal of its request (status and JSON body) after it started; nothing was stored."""

    def __init__(self, status: int, body: dict):
        super().__init__(status)
        self.status = status
        self.body = body


class _SeenBefore(Exception):
    """A refused request under a key that already has a stored answer: the answer, not the refusal, counts."""


def forget_old(now=None) -> int:
    """Remove stored answers past their keeping time (the worker calls this)."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def once_per_key(request, create, check=None, *, stores_answer: bool = False) -> JsonResponse:
    """Run a create at most once per Idempotency-Key (`run_once`, with its `check` and `stores_answer`) and
    answer as the API does.

    `create` returns a body already validated against the operation's response schema and dumped to JSON
    types (the stored answer that retries replay), so it is sent as it is rather than validated again."""
    try:
        status, body = run_once(request, create, check, stores_answer=stores_answer)
    except IdempotencyProblem as problem:
        field = [HEADER] if problem.status == 400 else []
        return JsonResponse({"detail": problem.detail, "fields": field}, status=problem.status)
    return JsonResponse(body, status=status)


def problem_from(error: ValidationError) -> dict:
    """A domain ValidationError as the API's problem body: the message and the fields it names."""
    fields = sorted(error.message_dict) if hasattr(error, "error_dict") else []
    return {"detail": " ".join(error.messages), "fields": fields}
