import io
import json
import tracemalloc
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from alongside.audit.models import AuditEvent
from alongside.interop import imports
from alongside.interop.models import ImportedRow, ImportRun
from alongside.interop.readers import Options
from alongside.monitoring.models import CheckIn, JournalEntry, Tag, TagKind
from alongside.signals import engine
from alongside.signals.models import DetectorState
from alongside.testing.factories import make_member

DAYLIO = """full_date,date,weekday,time,mood,activities,note_title,note
2025-03-03,3 March,Monday,9:15 pm,super,"Friends | Board games ",Good evening,"With <b>Sam</b>.<br>Laughed a lot."
2025-03-02,2 March,Sunday,21:30,meh,"",,""
2025-03-01,1 March,Saturday,10:00 am,awful ,"Bad sleep | Walk","","Rough night 7312"
"""

EMOODS = """DATE,DEPRESSED,ELEVATED,IRRITABILITY,ANXIETY,SLEEP,MEDICATIONS,NOTES
2025-04-01,0,2,1,1,7.5,Lithium 600mg,Steady day
2025-04-02,3,0,0,3,4,no,
"""


def _file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def _run(member, source, text, **kwargs):
    options = kwargs.pop("options", Options())
    return imports.run_import(member, source, _file(text), options=options, **kwargs)


def _errors(result) -> list[tuple[int, str]]:
    return [(error["line"], error["field"]) for error in result.run.errors]


def test_a_daylio_export_becomes_check_ins_tags_and_journal_entries(member):
    result = _run(member, "daylio", DAYLIO, dry_run=False, options=Options(mood_map={"super": 10}))
    assert result.run.created == 3 and result.run.error_count == 0
    checkins = {
        c.recorded_at.astimezone(ZoneInfo(member.time_zone)).date().isoformat(): c for c in member.checkins.all()
    }
    assert checkins["2025-03-03"].mood == 10 and checkins["2025-03-02"].mood == 5 and checkins["2025-03-01"].mood == 1
    first = checkins["2025-03-03"]
    assert first.source == "import"
    assert first.recorded_at.astimezone(ZoneInfo(member.time_zone)).strftime("%H:%M") == "21:15"
    assert sorted(tag.label for tag in first.tags.all()) == ["Board games", "Friends"]
    assert Tag.objects.filter(member=member, kind=TagKind.ACTIVITY, label="Bad sleep").exists()
    entries = {e.local_date.isoformat(): e for e in JournalEntry.objects.filter(member=member)}
    assert entries["2025-03-03"].text == "Good evening\n\nWith Sam.\nLaughed a lot."
    assert entries["2025-03-01"].source == "import" and "7312" in entries["2025-03-01"].text
    # Encrypted at rest: the stored column does not hold the words.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM monitoring_journalentry WHERE id = %s", [entries["2025-03-01"].pk])
        assert "7312" not in cursor.fetchone()[0]
    assert AuditEvent.objects.filter(member=member, category="interop", action="change").exists()


def test_an_unknown_daylio_mood_is_a_row_error_with_its_line(member):
    result = _run(member, "daylio", DAYLIO, dry_run=False)
    assert _errors(result) == [(2, "mood")]
    assert "super" in result.run.errors[0]["message"]
    assert result.run.created == 2 and member.checkins.count() == 2


def test_an_emoods_export_maps_onto_alongsides_scales(member):
    result = _run(member, "emoods", EMOODS, dry_run=False)
    assert result.run.created == 2, result.run.errors
    steady, low = member.checkins.order_by("recorded_at")
    assert (steady.mood, steady.anxiety, steady.sleep_hours, steady.medication) == (7, 3, Decimal("7.50"), "taken")
    assert sorted(tag.label for tag in steady.tags.all()) == ["Elevated mood", "Irritability"]
    assert steady.note == "eMoods: elevated 2/3 (moderate), irritability 1/3 (mild)"
    assert steady.recorded_at.astimezone(ZoneInfo(member.time_zone)).strftime("%H:%M") == "20:00"
    assert (low.mood, low.anxiety, low.sleep_hours, low.medication) == (1, 10, Decimal("4.00"), "missed")
    assert JournalEntry.objects.get(member=member).text == "Steady day"


def test_an_emoods_rating_above_three_is_an_error(member):
    result = _run(member, "emoods", EMOODS.replace("2025-04-02,3,", "2025-04-02,4,"), dry_run=True)
    assert _errors(result) == [(3, "depressed")]


def test_several_rows_a_day_in_another_time_zone_keep_their_times_and_the_members_day(member):
    text = (
        "when;how I feel;worry;tags\n"
        "2025-05-10 08:00;6;3;Work\n"
        "2025-05-10 13:00;5;4;\n"
        "2025-05-11 00:30;4;6;Work|Tired\n"
    )
    options = Options(
        mapping={"timestamp": "when", "mood": "how I feel", "anxiety": "worry", "tags": "tags"},
        date_format="%Y-%m-%d %H:%M",
        tz="Europe/Berlin",
    )
    result = _run(member, "csv", text, dry_run=False, options=options)
    assert result.run.created == 3, result.run.errors
    stored = list(member.checkins.order_by("recorded_at"))
    berlin = ZoneInfo("Europe/Berlin")
    assert [c.recorded_at.astimezone(berlin).strftime("%d %H:%M") for c in stored] == [
        "10 08:00",
        "10 13:00",
        "11 00:30",
    ]
    # Berlin's 00:30 on the 11th is still the 10th in New York, the member's clock.
    assert [c.local_date.isoformat() for c in stored] == ["2025-05-10"] * 3
    assert [c.mood for c in stored] == [6, 5, 4] and stored[2].anxiety == 6
    assert sorted(t.label for t in stored[2].tags.all()) == ["Tired", "Work"]


def test_date_and_time_columns_and_a_tsv(member):
    text = "day\ttime\tmood\n03/06/2025\t7:45 am\t8\n"
    options = Options(mapping={"date": "day", "time": "time", "mood": "mood"}, date_format="%d/%m/%Y")
    result = _run(member, "csv", text, dry_run=False, options=options)
    checkin = member.checkins.get()
    assert result.run.created == 1 and checkin.local_date.isoformat() == "2025-06-03" and checkin.mood == 8


@pytest.mark.parametrize(
    ("text", "mapping", "expected"),
    [
        ("when,mood\n2025-01-01T09:00,11\n", None, [(2, "mood")]),
        ("when,mood\n2025-01-01T09:00,seven\n", None, [(2, "mood")]),
        ("when,mood,sleep\n2025-01-01T09:00,5,30\n", {"sleep_hours": "sleep"}, [(2, "sleep_hours")]),
        ("when,mood\n2025-01-01T09:00,5\n2025-13-45T09:00,5\n", None, [(3, "timestamp")]),
        ("when,mood\n2099-01-01T09:00,5\n", None, [(2, "date")]),
        ("when,mood\n2025-01-01T09:00,\n", None, [(2, "mood")]),
        ("when,feeling\n2025-01-01T09:00,5\n", None, [(0, "mapping")]),
        ("", None, [(0, "file")]),
        ("\n\n", None, [(0, "file")]),
        ("when|mood\n2025-01-01T09:00|5\n", None, []),  # another delimiter is sniffed
    ],
)
def test_bad_input_is_named_by_line_and_field(member, text, mapping, expected):
    options = Options(mapping={"timestamp": "when", "mood": "mood", **(mapping or {})})
    result = _run(member, "csv", text, dry_run=False, options=options)
    assert _errors(result) == expected
    rows = [line for line in text.splitlines()[1:] if line.strip()]
    assert member.checkins.count() == (0 if any(line == 0 for line, _f in expected) else len(rows) - len(expected))


def test_a_wrong_delimiter_says_the_file_reads_as_one_column(member):
    options = Options(mapping={"timestamp": "when", "mood": "mood"}, delimiter=";")
    result = _run(member, "csv", "when,mood\n2025-01-01T09:00,5\n", options=options)
    assert _errors(result) == [(0, "mapping")] and "one column" in result.run.errors[0]["message"]
    assert result.nothing_imported


def test_a_missing_daylio_column_and_a_bad_time_zone_are_file_problems(member):
    assert _errors(_run(member, "daylio", "date,mood\n2025-01-01,good\n")) == [(0, "file")]
    assert _errors(_run(member, "daylio", DAYLIO, options=Options(tz="Mars/Olympus"))) == [(0, "tz")]


def test_a_dry_run_stores_nothing_and_previews_the_rows(member):
    result = _run(member, "daylio", DAYLIO, options=Options(mood_map={"super": 10}), dry_run=True)
    assert (result.run.rows_read, result.run.created, result.run.error_count) == (3, 3, 0)
    assert result.preview[0]["line"] == 2 and result.preview[0]["mood"] == 10
    assert result.preview[0]["when"] == "2025-03-03 21:15" and result.preview[0]["tags"] == ["Friends", "Board games"]
    assert result.new_tags == ["Bad sleep", "Board games"]  # Friends and Walk are among the starting activities
    assert not CheckIn.objects.exists() and not JournalEntry.objects.exists() and not ImportedRow.objects.exists()
    assert not Tag.objects.filter(label="Board games").exists()
    assert ImportRun.objects.get().dry_run


def test_importing_again_or_a_longer_export_creates_nothing_twice(member, organisation):
    options = Options(mood_map={"super": 10})
    _run(member, "daylio", DAYLIO, options=options, dry_run=False)
    again = _run(member, "daylio", DAYLIO, options=options, dry_run=False)
    assert (again.run.created, again.run.already_there) == (0, 3)
    longer = DAYLIO.replace(
        "full_date,date,weekday,time,mood,activities,note_title,note\n",
        "full_date,date,weekday,time,mood,activities,note_title,note\n2025-03-04,4 March,Tuesday,8:00 pm,rad,,,\n",
    )
    later = _run(member, "daylio", longer, options=options, dry_run=False)
    assert (later.run.created, later.run.already_there) == (1, 3)
    assert member.checkins.count() == 4 and JournalEntry.objects.filter(member=member).count() == 2
    dry = _run(member, "daylio", longer, options=options, dry_run=True)
    assert (dry.run.created, dry.run.already_there) == (0, 4)
    # Another member's identical diary is theirs alone.
    other = make_member(organisation)
    assert _run(other, "daylio", DAYLIO, options=options, dry_run=False).run.created == 3


def test_a_large_file_streams_in_bounded_memory(member):
    start = datetime(2020, 1, 1, 6, 0, tzinfo=ZoneInfo("UTC"))

    def lines(count):
        yield b"when,mood,anxiety\n"
        for i in range(count):
            yield f"{(start + timedelta(minutes=17 * i)).isoformat()},{i % 11},{(i * 7) % 11}\n".encode()

    def peak(count):
        tracemalloc.start()
        result = imports.run_import(
            member,
            "csv",
            lines(count),
            options=Options(mapping={"timestamp": "when", "mood": "mood", "anxiety": "anxiety"}),
        )
        _current, high = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert result.run.created == count
        return high

    small, large = peak(2_000), peak(20_000)
    # Ten times the rows, about the same memory: nothing grows with the file.
    assert large < small * 1.5 + 200_000


def test_history_does_not_page_anyone_and_the_engine_state_is_rebuilt(member):
    _run(member, "daylio", DAYLIO, options=Options(mood_map={"super": 10}), dry_run=False)
    state = DetectorState.objects.get(member=member)
    assert not state.stale
    assert engine.member_history(member) is not None
    assert not CheckIn.objects.filter(unannounced=True).exists()  # the rebuild counted them: nothing waits


def test_the_command_imports_prints_errors_and_fails_when_nothing_could_be_imported(member, tmp_path):
    path = tmp_path / "daylio.csv"
    path.write_text(DAYLIO)
    out, err = io.StringIO(), io.StringIO()
    call_command("import", "daylio", str(path), "--member", member.email, "--dry-run", stdout=out, stderr=err)
    assert "2 check-ins would be created" in out.getvalue() and "line 2: mood" in err.getvalue()
    assert not CheckIn.objects.exists()
    call_command("import", "daylio", str(path), "--member", member.email, "--mood", "super=10", stdout=out, stderr=err)
    assert member.checkins.count() == 3
    event = AuditEvent.objects.filter(member=member, action="change", category="interop").get()
    assert event.actor is None and event.actor_label.startswith("command line") and "3 created" in event.detail
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="nothing could be imported"):
        call_command("import", "daylio", str(empty), "--member", member.email, stdout=out, stderr=err)
    with pytest.raises(CommandError, match="Write each as NAME=VALUE"):
        call_command("import", "csv", str(path), "--member", member.email, "--map", "mood", stdout=out, stderr=err)


def _replay(member) -> list[dict]:
    out = io.StringIO()
    call_command("signals", "replay", "--member", member.email, "--json", stdout=out)
    return json.loads(out.getvalue())["days"]


def test_replay_sees_imported_days_and_flags_a_relapse_like_drift(member, tmp_path):
    """Done means: a Daylio diary of two steady months, then an experience-sampling CSV (three check-ins a day)
    whose last ten days drift into low mood and high anxiety; the replay sees the days and the engine flags it."""
    zone = ZoneInfo(member.time_zone)
    today = datetime.now(zone).date()
    labels = ["good", "rad", "good", "meh", "good", "good", "rad"]
    daylio = ["full_date,date,weekday,time,mood,activities,note_title,note"]
    for back in range(80, 20, -1):
        day = today - timedelta(days=back)
        daylio.append(f"{day.isoformat()},x,x,9:00 pm,{labels[back % 7]},Walk,,")
    daylio_path = tmp_path / "daylio.csv"
    daylio_path.write_text("\n".join([daylio[0], *reversed(daylio[1:])]) + "\n")
    sampling = ["time,mood,anxiety"]
    drift_start = today - timedelta(days=10)
    for back in range(20, 0, -1):
        day = today - timedelta(days=back)
        low = day >= drift_start
        for hour, wobble in ((9, 0), (14, 1), (20, -1)):
            mood, anxiety = (2 + (wobble > 0), 8 + (wobble < 0)) if low else (7 + wobble, 2)
            sampling.append(f"{day.isoformat()}T{hour:02d}:00,{mood},{anxiety}")
    sampling_path = tmp_path / "sampling.csv"
    sampling_path.write_text("\n".join(sampling) + "\n")
    call_command("import", "daylio", str(daylio_path), "--member", member.email, stdout=io.StringIO())
    call_command(
        "import",
        "csv",
        str(sampling_path),
        "--member",
        member.email,
        "--map",
        "timestamp=time",
        "--map",
        "mood=mood",
        "--map",
        "anxiety=anxiety",
        stdout=io.StringIO(),
    )
    assert member.checkins.filter(source="import").count() == 60 + 60
    days = {entry["day"]: entry for entry in _replay(member)}
    assert days[(today - timedelta(days=80)).isoformat()]["checkins"] == 1
    assert days[(today - timedelta(days=5)).isoformat()]["checkins"] == 3
    fired = sorted(day for day, entry in days.items() if entry["fired"])
    assert fired, "the drift should be flagged"
    assert all(day >= drift_start.isoformat() for day in fired)
    assert any(f["detector"] for f in days[fired[0]]["fired"])


def test_crisis_words_in_an_imported_diary_are_not_swallowed_and_carry_their_day(member):
    from alongside.care.models import SafetyEvent, SafetyKind

    text = DAYLIO.replace("Rough night 7312", "I want to die")
    _run(member, "daylio", text, dry_run=False)
    event = SafetyEvent.objects.get(member=member, kind=SafetyKind.CRISIS_LANGUAGE)
    assert event.source.endswith("written 2025-03-01")


def test_a_file_with_old_mac_line_ends_imports_line_by_line(member):
    result = _run(member, "emoods", EMOODS.replace("\n", "\r"), dry_run=False)
    assert _errors(result) == [] and result.run.created == 2


def test_a_quote_left_open_is_an_error_at_its_line_not_a_crash(member):
    runaway = 'DATE,DEPRESSED,NOTES\n2025-04-01,0,fine\n2025-04-02,1,"' + "no closing quote " * 10_000 + "\n"
    result = _run(member, "emoods", runaway, dry_run=False)
    assert _errors(result) == [(3, "file")] and result.run.created == 1
    header_only = _run(member, "emoods", 'DATE,"DEPRESSED' + "x" * 200_000 + "\n")
    assert _errors(header_only) == [(0, "file")]
