import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from alongside.interop import imports
from alongside.interop.models import ImportRun
from alongside.monitoring.models import CheckIn, JournalEntry
from alongside.testing.factories import make_member

DIARY = """full_date,date,weekday,time,mood,activities,note_title,note
2025-03-02,2 March,Sunday,21:30,fine,"Walk",,"Diary words 8841"
2025-03-01,1 March,Saturday,10:00 am,awful,"",,""
"""


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def _upload(name="daylio.csv", text=DIARY):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _post(client, **data):
    return client.post(reverse("interop:import"), data)


def _preview(client, **data):
    return client.post(reverse("interop:import"), {"source": "daylio", "file": _upload(), **data})


def test_a_member_previews_adjusts_the_mood_mapping_and_imports(member, client_for, data_dir):
    client = client_for(member)
    history = client.get(reverse("monitoring:history")).content.decode()
    assert reverse("interop:import") in history
    page = _preview(client)
    body = page.content.decode()
    assert page.status_code == 200 and "Line 2" in body and "fine" in body  # the renamed mood is unknown
    assert not CheckIn.objects.exists()
    run = ImportRun.objects.get(member=member)
    assert (data_dir / "imports" / f"run-{run.pk}.upload").exists()
    assert oct((data_dir / "imports" / f"run-{run.pk}.upload").stat().st_mode)[-3:] == "600"
    again = client.post(reverse("interop:import"), {"source": "daylio", "run": run.pk, "mood_map": "fine=6"})
    body = again.content.decode()
    assert again.status_code == 200 and "2 new check-ins" in body and "Diary words 8841" in body
    assert not CheckIn.objects.exists()
    done = _post(client, source="daylio", run=run.pk, mood_map="fine=6", action="import")
    assert done.status_code == 302 and done["Location"] == reverse("monitoring:history")
    assert sorted(member.checkins.values_list("mood", flat=True)) == [1, 6]
    assert JournalEntry.objects.get(member=member).text == "Diary words 8841"
    assert not (data_dir / "imports" / f"run-{run.pk}.upload").exists()
    # The kept file is gone: importing once more asks for the file.
    assert _post(client, source="daylio", run=run.pk, action="import").status_code == 400


def test_another_members_preview_cannot_be_imported_or_seen(member, organisation, client_for):
    _preview(client_for(member), mood_map="fine=6")
    run = ImportRun.objects.get(member=member)
    other = make_member(organisation)
    response = _post(client_for(other), source="daylio", run=run.pk, action="import")
    assert response.status_code == 400 and "Diary words" not in response.content.decode()
    assert not CheckIn.objects.exists()


def test_staff_have_no_import_page(staff, relationship, outsider, client_for):
    assert client_for(staff).get(reverse("interop:import")).status_code == 403
    assert _post(client_for(outsider), source="daylio", file=_upload()).status_code == 403
    assert not ImportRun.objects.exists()


def test_bad_options_and_a_missing_file_come_back_on_the_form(member, client_for):
    client = client_for(member)
    response = client.post(reverse("interop:import"), {"source": "daylio"})
    assert response.status_code == 400 and "Choose the file" in response.content.decode()
    response = _preview(client, mood_map="fine")
    assert response.status_code == 400 and "NAME=VALUE" in response.content.decode()
    response = _preview(client, mood_map="fine=12")
    assert response.status_code == 400 and "0 to 10" in response.content.decode()
    response = client.post(reverse("interop:import"), {"source": "csv", "file": _upload(), "mapping": "mood=mood"})
    assert "Map a timestamp column" in response.content.decode()


def test_stale_uploads_are_removed(member, client_for, data_dir):
    _preview(client_for(member))
    run = ImportRun.objects.get(member=member)
    kept = data_dir / "imports" / f"run-{run.pk}.upload"
    assert imports.remove_stale_uploads() == 0 and kept.exists()
    old = time.time() - 2 * 24 * 3600
    os.utime(kept, (old, old))
    assert imports.remove_stale_uploads() == 1 and not kept.exists()
