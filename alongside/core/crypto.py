"""Field-level encryption at rest for journal text and clinical notes, with key rotation.

Values are Fernet tokens (AES-128-CBC with HMAC-SHA256, ASCII text) made with the keys in
`settings.ENCRYPTION_KEYS` (ALONGSIDE_ENCRYPTION_KEYS), newest first: the first key encrypts, every key
decrypts. To change keys, put a new key first, keep the old ones after it, run
`alongside rotate_encryption_key` (which calls `rotate()`), then remove the old keys.

`EncryptedTextField` stores the token in a text column and gives plain `str` back. None stays NULL. The
empty string is stored as "" rather than encrypted: a Fernet token's length shows the length of its text
anyway, so encrypting "" would hide nothing, and blank form fields keep Django's usual "" meaning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models, router, transaction
from django.db.models.lookups import Exact, IsNull
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

KEYS_SETTING = "ALONGSIDE_ENCRYPTION_KEYS"
ROTATE_BATCH_SIZE = 500

Progress = Callable[[int, int, str], None]


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key. Never answered with the ciphertext."""


@functools.cache
def multi_fernet() -> MultiFernet:
    """The MultiFernet for settings.ENCRYPTION_KEYS; rebuilt after the setting changes (see _forget_keys)."""
    keys = list(getattr(settings, "ENCRYPTION_KEYS", None) or [])
    if not keys:
        raise ImproperlyConfigured(f"{KEYS_SETTING} is empty: at least one Fernet key is needed")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(f"{KEYS_SETTING} key {position} is not a Fernet key") from None
    return MultiFernet(fernets)


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    # Tests (and override_settings) swap keys at run time; the next use must see the new list.
    if setting == "ENCRYPTION_KEYS":
        multi_fernet.cache_clear()


def encrypt(text: str) -> str:
    """A Fernet token (ASCII) for `text`, made with the first key. Each call gives a different token."""
    return multi_fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text inside `token`; DecryptionError when no configured key made it (or it is not a token)."""
    try:
        # Non-ASCII text cannot be a token; cryptography would raise a bare ValueError for it.
        data = token.encode("ascii")
        return multi_fernet().decrypt(data).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DecryptionError(
            f"cannot decrypt: the key that encrypted it is not in {KEYS_SETTING} (or the value is not a Fernet token)"
        ) from None


class _NoneOnlyExact(Exact):
    """`field=None` still means `field__isnull=True`; comparing with any value is refused."""

    def __init__(self, lhs, rhs):
        if rhs is not None:
            raise FieldError(_refusal(lhs.output_field, "exact"))
        super().__init__(lhs, rhs)


def _refusal(field: models.Field, lookup_name: str) -> str:
    return (
        f"{_label(field)} is encrypted and cannot be used in a {lookup_name!r} lookup: each stored value is "
        "randomized ciphertext, so the database cannot compare it; only isnull works"
    )


def _label(field: models.Field) -> str:
    model = getattr(field, "model", None)
    return f"{model._meta.label}.{field.name}" if model is not None else f"EncryptedTextField {field.name!r}"


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token and read back as `str`; see the module docstring for the key procedure.

    The database only ever sees ciphertext, so it cannot search, compare or index these values: every
    lookup except isnull raises FieldError. Python values (forms, fixtures, dumpdata) are plaintext.
    """

    description = _("Text encrypted at rest")

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except DecryptionError:
            raise DecryptionError(
                f"cannot decrypt {_label(self)}: the key that encrypted it is not in {KEYS_SETTING} "
                "(or the stored value is not a Fernet token)"
            ) from None

    def to_python(self, value):
        # Values reaching to_python (forms, fixtures, full_clean) are already plaintext: tokens are decrypted
        # by from_db_value on the way out of the database.
        return super().to_python(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return _NoneOnlyExact
        raise FieldError(_refusal(self, lookup_name))

    def get_transform(self, lookup_name):
        raise FieldError(_refusal(self, lookup_name))

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.primary_key or self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "EncryptedTextField cannot be a primary key, unique or indexed: its stored values are "
                    "randomized ciphertext.",
                    obj=self,
                    id="alongside.E001",
                )
            )
        return errors


def encrypted_fields() -> Iterator[tuple[type[models.Model], str]]:
    """(model, field name) for every EncryptedTextField of every installed model, each column once."""
    for model in apps.get_models():
        # Proxies share their concrete model's table, and a multi-table child's inherited fields live in the
        # parent's table: local concrete fields visit each column exactly once.
        if model._meta.proxy:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field.name


def rotate(progress: Progress | None = None, *, batch_size: int = ROTATE_BATCH_SIZE) -> int:
    """Re-encrypt every stored encrypted value with the first key; return how many values were re-encrypted.

    Works through each table in primary-key order, `batch_size` rows per transaction, with the rows of a batch
    locked (where the database can) so that a concurrent edit is not overwritten with an older value. Tokens
    go from the database through MultiFernet.rotate and back; no model instance ever holds the plaintext. An
    interrupted run can simply be repeated. `progress(done, total, label)` is called once before each field
    and after each batch; label is "app_label.Model.field".
    """
    rotated = 0
    for model, name in encrypted_fields():
        rotated += _rotate_field(model, name, progress, batch_size)
    return rotated


def _rotate_field(model: type[models.Model], name: str, progress: Progress | None, batch_size: int) -> int:
    fernet = multi_fernet()
    label = f"{model._meta.label}.{name}"
    # The column as stored: a plain TextField output has no from_db_value, so the token is not decrypted.
    token = models.ExpressionWrapper(models.F(name), output_field=models.TextField())
    stored = (
        model._base_manager.using(router.db_for_write(model))
        .filter(**{f"{name}__isnull": False})
        .exclude(Exact(token, ""))
    )
    total = stored.count()
    done = 0
    if progress:
        progress(done, total, label)
    last_pk = None
    while True:
        with transaction.atomic(using=stored.db):
            batch = stored if last_pk is None else stored.filter(pk__gt=last_pk)
            rows = list(batch.select_for_update().order_by("pk").values_list("pk", token)[:batch_size])
            if not rows:
                break
            updates = []
            for pk, old in rows:
                try:
                    new = fernet.rotate(old.encode("ascii")).decode("ascii")
                except (InvalidToken, UnicodeError):
                    raise DecryptionError(
                        f"cannot decrypt {label} (pk={pk}): the key that encrypted it is not in {KEYS_SETTING} "
                        "(or the stored value is not a Fernet token)"
                    ) from None
                row = model(pk=pk)
                # An expression with a plain text output is written as is, so the new token is not encrypted again.
                setattr(row, name, models.Value(new, output_field=models.TextField()))
                updates.append(row)
            model._base_manager.using(stored.db).bulk_update(updates, [name])
        done += len(rows)
        last_pk = rows[-1][0]
        # Rows added during the run are rotated too; keep done <= total for the progress display.
        total = max(total, done)
        if progress:
            progress(done, total, label)
    return done
