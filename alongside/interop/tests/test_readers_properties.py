"""Properties of the import readers, for any input: a file either yields rows and row errors or is refused as a
whole with FileProblem, never another exception; and a well-formed Daylio or CSV file gives back its values."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alongside.interop.imports import _Lines
from alongside.interop.readers import (
    CSV_FIELDS,
    DAYLIO_MOODS,
    READERS,
    FileProblem,
    Options,
    Row,
    RowError,
    mood_map_from,
    parse_pairs,
)

PROPERTIES = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ZONES = st.sampled_from(["UTC", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Dublin"])
# Characters that matter to these files: separators, quotes, digits and the signs of dates and times.
CELL = st.text(
    alphabet=st.one_of(st.sampled_from("0123456789-:/.,;|\t \"'TZ+APMapm%xé\r\n"), st.characters()), max_size=12
)
KNOWN_CELLS = st.sampled_from(
    ["2024-02-29", "9999-12-31", "0001-01-01", "0001-01-01T00:00", "9999-12-31T23:59:59", "23:59", "7", "10.0",
     "-0", "1e1", "NaN", "Infinity", "rad", "yes", "n/a", "24", "25", "<b>hi</b>", "2024-01-01T10:00+14:00"]
)  # fmt: skip
OPTIONS = st.builds(
    Options,
    mapping=st.dictionaries(st.sampled_from(CSV_FIELDS), st.sampled_from(["a", "b", "when", "mood", ""]), max_size=5),
    mood_map=st.dictionaries(st.text(max_size=6), st.integers(0, 10), max_size=3),
    date_format=st.sampled_from(["", "%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M", "%", "%Q", "%z"]),
    delimiter=st.sampled_from(["", ",", ";", "\t"]),
)


def read_all(source: str, data: bytes, zone: str, options: Options) -> list[Row | RowError]:
    """The reader's whole output over `data` as an upload gives it (decoded line by line); FileProblem passes."""
    lines = _Lines(io.BytesIO(data), None)
    rows = list(READERS[source](lines, zone=ZoneInfo(zone), options=options))
    assert all(isinstance(row, Row | RowError) for row in rows)
    return rows


def csv_text(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("source", sorted(READERS))
@PROPERTIES
@given(data=st.binary(max_size=300), zone=ZONES, options=OPTIONS)
def test_any_bytes_are_rows_row_errors_or_a_file_problem(source, data, zone, options):
    try:
        read_all(source, data, zone, options)
    except FileProblem as problem:
        assert problem.field and str(problem)


HEADERS = {
    "daylio": ["full_date", "date", "weekday", "time", "mood", "activities", "note_title", "note"],
    "emoods": ["date", "time", "depressed", "elevated", "irritability", "anxiety", "sleep", "medications", "notes"],
    "csv": ["when", "mood", "a", "b"],
}


@pytest.mark.parametrize("source", sorted(READERS))
@PROPERTIES
@given(
    body=st.lists(st.lists(st.one_of(KNOWN_CELLS, CELL), max_size=10), max_size=6),
    zone=ZONES,
    options=OPTIONS,
)
def test_any_cells_under_a_real_header_are_rows_or_row_errors(source, body, zone, options):
    """Past the header, each line is a row or the errors of that row: never an exception."""
    if source == "csv" and not options.mapping:
        options.mapping = {"timestamp": "when", "mood": "mood", "anxiety": "a", "tags": "b"}
    try:
        rows = read_all(source, csv_text([HEADERS[source], *body]), zone, options)
    except FileProblem as problem:
        assert problem.field in ("mapping", "file", "tz")
        return
    assert all(row.line >= 2 for row in rows)


@PROPERTIES
@given(pairs=st.lists(st.text(max_size=12), max_size=5))
def test_pairs_are_a_mapping_or_a_problem_naming_the_option(pairs):
    try:
        found = parse_pairs(pairs, what="mapping")
    except FileProblem as problem:
        assert problem.field == "mapping"
        return
    assert all("=" in pair or not pair.strip() for pair in pairs) and all(found.values())


@PROPERTIES
@given(pairs=st.dictionaries(st.text(max_size=8), st.text(max_size=4), max_size=4))
def test_a_mood_map_is_whole_numbers_from_0_to_10_or_a_problem(pairs):
    try:
        moods = mood_map_from(pairs)
    except FileProblem as problem:
        assert problem.field == "mood_map"
        return
    assert all(0 <= value <= 10 for value in moods.values())


# Round trips ----------------------------------------------------------------------------------------------------

LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=15).map(lambda s: " ".join(s.split()))
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2024, 12, 31))
MINUTES = st.times().map(lambda t: time(t.hour, t.minute))


@PROPERTIES
@given(
    entries=st.lists(
        st.tuples(DAYS, MINUTES, st.sampled_from(sorted(DAYLIO_MOODS)), st.lists(LABEL.filter(bool), max_size=3)),
        min_size=1,
        max_size=5,
    ),
    note=st.text(alphabet="abc xyz.,!?", max_size=40),
    zone=ZONES,
)
def test_a_daylio_export_gives_back_its_moods_times_and_activities(entries, note, zone):
    lines = [HEADERS["daylio"]]
    for day, at, mood, activities in entries:
        lines.append([day.isoformat(), "", "", at.strftime("%H:%M"), mood, " | ".join(activities), "", note])
    rows = read_all("daylio", csv_text(lines), zone, Options())
    assert all(isinstance(row, Row) for row in rows), rows
    assert len(rows) == len(entries)
    for row, (day, at, mood, activities) in zip(rows, entries, strict=True):
        assert row.checkin["recorded_at"] == datetime.combine(day, at, tzinfo=ZoneInfo(zone))
        assert row.checkin["mood"] == DAYLIO_MOODS[mood]
        assert row.checkin["activities"] == list(dict.fromkeys(activities))
        assert row.journal == note.strip()


@PROPERTIES
@given(
    entries=st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2024, 12, 31)),  # noqa: DTZ001
            st.integers(0, 10),
            st.one_of(st.none(), st.integers(0, 10)),
        ),
        min_size=1,
        max_size=5,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    zone=ZONES,
)
def test_a_csv_file_gives_back_its_times_and_scales(entries, delimiter, zone):
    lines = [["when", "mood", "anxiety"]]
    for when, mood, anxiety in entries:
        lines.append([when.isoformat(), str(mood), "" if anxiety is None else str(anxiety)])
    options = Options(mapping={"timestamp": "when", "mood": "mood", "anxiety": "anxiety"}, delimiter=delimiter)
    rows = read_all("csv", csv_text(lines, delimiter), zone, options)
    assert all(isinstance(row, Row) for row in rows), rows
    for row, (when, mood, anxiety) in zip(rows, entries, strict=True):
        assert row.checkin["recorded_at"] == when.replace(tzinfo=ZoneInfo(zone))
        assert (row.checkin["mood"], row.checkin["anxiety"]) == (mood, anxiety)
