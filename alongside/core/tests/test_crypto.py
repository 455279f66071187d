import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test.utils import isolate_apps

from alongside.core import crypto
from alongside.core.crypto import DecryptionError, EncryptedTextField

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_C = Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    """keys(*keys): set ENCRYPTION_KEYS, newest first."""

    def use(*new_keys):
        settings.ENCRYPTION_KEYS = list(new_keys)

    use(KEY_A)
    return use


@pytest.fixture
def note_model(transactional_db, keys):
    """A throwaway model with an encrypted field and its table.

    It is defined here rather than at module level so that the app registry (and so makemigrations and every
    other test) only sees it while a test uses it. The schema editor needs a transactional test on SQLite.
    """

    class CryptoTestNote(models.Model):
        title = models.CharField(max_length=100, default="")
        body = EncryptedTextField(null=True, blank=True)

        class Meta:
            app_label = "core"

        def __str__(self):
            return self.title

    try:
        with connection.schema_editor() as editor:
            editor.create_model(CryptoTestNote)
        yield CryptoTestNote
        with connection.schema_editor() as editor:
            editor.delete_model(CryptoTestNote)
    finally:
        del apps.all_models["core"]["cryptotestnote"]
        apps.clear_cache()


def raw_body(model, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {table} WHERE id = %s", [pk])  # noqa: S608 (table name is quoted)
        return cursor.fetchone()[0]


def write_raw_body(model, pk, value):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET body = %s WHERE id = %s", [value, pk])  # noqa: S608


# The helpers


def test_encrypt_and_decrypt_round_trip_any_text(keys):
    text = "Slept badly; talked to Sam. Ça va mieux — 🌱"
    token = crypto.encrypt(text)
    assert token != text
    assert token.isascii()
    assert crypto.decrypt(token) == text


def test_decrypt_refuses_tokens_of_other_keys_and_non_tokens(keys):
    foreign = Fernet(KEY_C).encrypt(b"secret").decode()
    for bad in (foreign, "plain words", "non-ascii é", ""):
        with pytest.raises(DecryptionError, match="cannot decrypt: the key that encrypted it is not in ALONGSIDE_"):
            crypto.decrypt(bad)


def test_changed_setting_is_seen_at_once(keys):
    token = crypto.encrypt("hello")
    keys(KEY_B)
    assert Fernet(KEY_B).decrypt(crypto.encrypt("hello")) == b"hello"
    with pytest.raises(DecryptionError):
        crypto.decrypt(token)


# The field


def test_round_trip_through_the_database(note_model):
    text = "Felt anxious before the appointment, better after the walk."
    note = note_model.objects.create(title="Tuesday", body=text)
    assert note_model.objects.get(pk=note.pk).body == text
    assert list(note_model.objects.values_list("body", flat=True)) == [text]
    note.refresh_from_db()
    assert note.body == text


def test_the_database_holds_only_a_fernet_token(note_model):
    text = "I told my counsellor about the panic attacks"
    note = note_model.objects.create(body=text)
    stored = raw_body(note_model, note.pk)
    assert text not in stored
    for word in ("counsellor", "panic", "attacks"):
        assert word not in stored
    assert stored.startswith("gAAAAA")  # Fernet version byte, base64
    assert Fernet(KEY_A).decrypt(stored.encode()) == text.encode()


def test_the_same_text_saved_twice_gives_different_ciphertext(note_model):
    first = note_model.objects.create(body="same words")
    second = note_model.objects.create(body="same words")
    once = raw_body(note_model, first.pk)
    first.save()
    assert raw_body(note_model, first.pk) != once
    assert raw_body(note_model, first.pk) != raw_body(note_model, second.pk)
    assert {note.body for note in note_model.objects.all()} == {"same words"}


def test_none_stays_null_and_empty_text_stays_empty(note_model):
    empty = note_model.objects.create(body="")
    missing = note_model.objects.create(body=None)
    assert raw_body(note_model, empty.pk) == ""
    assert raw_body(note_model, missing.pk) is None
    assert note_model.objects.get(pk=empty.pk).body == ""
    assert note_model.objects.get(pk=missing.pk).body is None


def test_update_and_bulk_writes_are_encrypted_too(note_model):
    note = note_model.objects.create(body="before")
    note_model.objects.filter(pk=note.pk).update(body="after update")
    assert "after" not in raw_body(note_model, note.pk)
    assert note_model.objects.get(pk=note.pk).body == "after update"
    created = note_model.objects.bulk_create([note_model(body="bulk one"), note_model(body="bulk two")])
    if created[0].pk is None:  # backends that do not return ids from bulk inserts
        created = list(note_model.objects.exclude(pk=note.pk).order_by("pk"))
    for row in created:
        assert "bulk" not in raw_body(note_model, row.pk)
    note.body = "bulk updated"
    note_model.objects.bulk_update([note], ["body"])
    assert "bulk" not in raw_body(note_model, note.pk)
    assert note_model.objects.get(pk=note.pk).body == "bulk updated"


def test_old_key_still_reads_after_a_new_key_is_put_first(note_model, keys):
    note = note_model.objects.create(body="written with the old key")
    keys(KEY_B, KEY_A)
    assert note_model.objects.get(pk=note.pk).body == "written with the old key"
    newer = note_model.objects.create(body="written with the new key")
    assert Fernet(KEY_B).decrypt(raw_body(note_model, newer.pk).encode()) == b"written with the new key"


def test_unknown_key_raises_a_clear_error_instead_of_returning_ciphertext(note_model, keys):
    note = note_model.objects.create(body="private")
    keys(KEY_C)
    message = (
        r"cannot decrypt core\.CryptoTestNote\.body: the key that encrypted it is not in ALONGSIDE_ENCRYPTION_KEYS"
    )
    with pytest.raises(DecryptionError, match=message):
        note_model.objects.get(pk=note.pk)
    with pytest.raises(DecryptionError, match=message):
        list(note_model.objects.values_list("body", flat=True))
    # Columns that are not read are not decrypted.
    assert note_model.objects.only("title").get(pk=note.pk).title == ""


def test_plaintext_left_in_the_column_is_an_error_not_text(note_model):
    note = note_model.objects.create(body="x")
    write_raw_body(note_model, note.pk, "never encrypted")
    with pytest.raises(DecryptionError, match=r"cannot decrypt core\.CryptoTestNote\.body"):
        note_model.objects.get(pk=note.pk)


@pytest.mark.parametrize(
    "lookup",
    [
        {"body": "private"},
        {"body__exact": "private"},
        {"body__iexact": "private"},
        {"body__contains": "priv"},
        {"body__icontains": "priv"},
        {"body__startswith": "p"},
        {"body__in": ["private"]},
        {"body__gt": "a"},
        {"body__lower": "private"},
        {"body__lower__contains": "p"},
    ],
)
def test_lookups_on_the_field_are_refused(note_model, lookup):
    with pytest.raises(FieldError, match=r"core\.CryptoTestNote\.body is encrypted and cannot be used in"):
        note_model.objects.filter(**lookup)
    with pytest.raises(FieldError, match="randomized ciphertext"):
        note_model.objects.exclude(**lookup)


def test_isnull_and_none_still_work(note_model):
    written = note_model.objects.create(body="text")
    note_model.objects.create(body=None)
    assert list(note_model.objects.filter(body__isnull=False)) == [written]
    assert note_model.objects.filter(body__isnull=True).count() == 1
    assert note_model.objects.filter(body=None).count() == 1
    assert note_model.objects.exclude(body=None).get() == written


def test_deconstruct_for_migrations():
    field = EncryptedTextField(null=True, blank=True, verbose_name="note")
    _name, path, args, kwargs = field.deconstruct()
    assert path == "alongside.core.crypto.EncryptedTextField"
    assert args == []
    assert kwargs == {"null": True, "blank": True, "verbose_name": "note"}
    rebuilt = EncryptedTextField(*args, **kwargs)
    assert (rebuilt.null, rebuilt.blank, rebuilt.verbose_name) == (True, True, "note")


@isolate_apps("alongside.core")
def test_unique_or_indexed_encrypted_fields_fail_the_system_check():
    class Indexed(models.Model):
        plain = EncryptedTextField()
        unique = EncryptedTextField(unique=True)
        indexed = EncryptedTextField(db_index=True)

        class Meta:
            app_label = "core"

        def __str__(self):
            return "indexed"

    assert Indexed._meta.get_field("plain").check() == []
    for name in ("unique", "indexed"):
        assert [error.id for error in Indexed._meta.get_field(name).check()] == ["alongside.E001"]


# Rotation


def test_encrypted_fields_lists_installed_encrypted_columns(note_model):
    assert (note_model, "body") in list(crypto.encrypted_fields())
    assert all(isinstance(model._meta.get_field(name), EncryptedTextField) for model, name in crypto.encrypted_fields())


def test_rotate_re_encrypts_so_the_old_key_can_be_removed(note_model, keys):
    texts = [f"entry {number}" for number in range(7)]
    notes = [note_model.objects.create(body=text) for text in texts]
    empty = note_model.objects.create(body="")
    missing = note_model.objects.create(body=None)
    keys(KEY_B, KEY_A)
    calls = []
    assert crypto.rotate(lambda *call: calls.append(call), batch_size=3) == 7
    for note in notes:
        assert Fernet(KEY_B).decrypt(raw_body(note_model, note.pk).encode()).decode() == note.body
    assert raw_body(note_model, empty.pk) == ""
    assert raw_body(note_model, missing.pk) is None
    ours = [call for call in calls if call[2] == "core.CryptoTestNote.body"]
    assert ours == [(0, 7, "core.CryptoTestNote.body"), (3, 7, ours[0][2]), (6, 7, ours[0][2]), (7, 7, ours[0][2])]

    keys(KEY_B)
    assert sorted(note_model.objects.exclude(body=None).values_list("body", flat=True)) == ["", *texts]


def test_rotate_keeps_the_original_timestamp_and_is_safe_to_repeat(note_model, keys):
    note = note_model.objects.create(body="kept")
    before = Fernet(KEY_A).extract_timestamp(raw_body(note_model, note.pk).encode())
    keys(KEY_B, KEY_A)
    assert crypto.rotate() == 1
    assert crypto.rotate() == 1
    keys(KEY_B)
    assert Fernet(KEY_B).extract_timestamp(raw_body(note_model, note.pk).encode()) == before
    assert note_model.objects.get(pk=note.pk).body == "kept"


def test_rotate_stops_on_a_value_no_key_can_read(note_model, keys):
    note = note_model.objects.create(body="lost")
    keys(KEY_C)
    with pytest.raises(DecryptionError, match=rf"cannot decrypt core\.CryptoTestNote\.body \(pk={note.pk}\)"):
        crypto.rotate()


# The management command


def test_command_rotates_and_reports_the_count(note_model, keys):
    for text in ("one", "two", "three"):
        note_model.objects.create(body=text)
    keys(KEY_B, KEY_A)
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    output = out.getvalue()
    assert "core.CryptoTestNote.body: 3/3 re-encrypted\n" in output
    assert "Re-encrypted 3 values in" in output
    assert "\r" not in output
    keys(KEY_B)
    assert sorted(note_model.objects.values_list("body", flat=True)) == ["one", "three", "two"]


def test_command_rewrites_one_line_on_a_terminal(note_model, keys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for number in range(3):
        note_model.objects.create(body=f"entry {number}")
    out = Terminal()
    call_command("rotate_encryption_key", "--batch-size", "2", stdout=out)
    output = out.getvalue()
    assert "\rcore.CryptoTestNote.body: 2/3" in output
    assert "\rcore.CryptoTestNote.body: 3/3" in output
    assert output.count("\n") == 2  # the progress line, then the summary
    assert "Re-encrypted 3 values" in output


def test_command_turns_an_unreadable_value_into_a_command_error(note_model, keys):
    note_model.objects.create(body="lost")
    keys(KEY_C)
    with pytest.raises(CommandError, match=r"cannot decrypt core\.CryptoTestNote\.body"):
        call_command("rotate_encryption_key", stdout=io.StringIO())


def test_command_help_explains_the_procedure(capsys):
    from alongside.core.management.commands.rotate_encryption_key import Command

    Command().print_help("alongside", "rotate_encryption_key")
    text = capsys.readouterr().out
    assert "put it first in ALONGSIDE_ENCRYPTION_KEYS and keep the old keys after it" in text
    assert "remove the old keys" in text
