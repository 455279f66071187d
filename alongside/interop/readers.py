"""Readers for exported mood diaries: each turns a text stream into rows the check-in domain can store, one line
at a time (a 100 MB export is never held in memory), and names every problem by line and field.

- **Daylio** (CSV: `full_date,date,weekday,time,mood,activities,note_title,note`, newest first): the mood label
  becomes a 0–10 mood through a mapping the member may change (Daylio lets them rename the five moods);
  activities (separated by " | ") become activity tags; the note's title and text become a journal entry.
- **eMoods** (CSV, one row a day): depressed, elevated, irritability and anxiety are rated 0 (none) to 3
  (severe); `EMOODS_SCALES` below is how they map onto Alongside's scales.
- **Any CSV or TSV** with a column mapping `FIELD=COLUMN`, a date format and a time zone.

A reader yields `Row`s (values ready for `checkins.record`) and `RowError`s; it never writes."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from alongside.monitoring.checkins import FUTURE_TOLERANCE, MAX_NOTE_LENGTH, SCALE_FIELDS
from alongside.monitoring.journal import MAX_LENGTH as MAX_JOURNAL_LENGTH
from alongside.monitoring.models import Medication

# Daylio's five default moods, best first. Members rename them in the app, so the mapping can be changed.
DAYLIO_MOODS = {"rad": 9, "good": 7, "meh": 5, "bad": 3, "awful": 1}
DAYLIO_COLUMNS = ("full_date", "time", "mood", "activities", "note_title", "note")

# eMoods rates each symptom 0 none, 1 mild, 2 moderate, 3 severe. Mapped onto Alongside's 0–10 scales:
# - mood (higher is better) = 7 − 2 × depressed: none 7 (as Daylio's "good"), mild 5, moderate 3, severe 1;
# - anxiety (higher is worse) = anxiety × 10 / 3, rounded: 0, 3, 7, 10;
# - elevated mood and irritability have no Alongside scale (a high "energy" would read as doing well, which
#   elevation is not), so a rating above none becomes an activity tag ("Elevated mood", "Irritability") and
#   the check-in's note keeps the rating ("elevated 2/3");
# - hours of sleep as given; medications: a name or "yes" is taken, "no" or "0" is not taken;
# - notes become a journal entry. A row without a time is placed at 20:00 on its day, the member's clock.
EMOODS_SCALES = {"mood": lambda depressed: 7 - 2 * depressed, "anxiety": lambda anxiety: round(anxiety * 10 / 3)}
EMOODS_COLUMNS = {
    "date": ("date", "day"),
    "time": ("time",),
    "depressed": ("depressed", "depressed mood", "depression"),
    "elevated": ("elevated", "elevated mood", "mania"),
    "irritability": ("irritability", "irritable"),
    "anxiety": ("anxiety", "anxious"),
    "sleep": ("sleep", "hours of sleep", "sleep hours", "hours slept"),
    "medications": ("medications", "medication", "meds"),
    "notes": ("notes", "note"),
}
EMOODS_LEVELS = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}
EMOODS_DEFAULT_TIME = time(20, 0)
EMOODS_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y")

# What a generic file's columns may be mapped to: the check-in's fields, and when it happened.
CSV_FIELDS = (
    "mood",
    "anxiety",
    "energy",
    "sleep_hours",
    "sleep_quality",
    "medication",
    "cravings",
    "note",
    "tags",
    "timestamp",
    "date",
    "time",
)
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p", "%I %p")
MEDICATION_WORDS = {
    "taken": Medication.TAKEN,
    "yes": Medication.TAKEN,
    "y": Medication.TAKEN,
    "true": Medication.TAKEN,
    "1": Medication.TAKEN,
    "missed": Medication.MISSED,
    "not taken": Medication.MISSED,
    "no": Medication.MISSED,
    "n": Medication.MISSED,
    "false": Medication.MISSED,
    "0": Medication.MISSED,
    "na": Medication.NOT_APPLICABLE,
    "n/a": Medication.NOT_APPLICABLE,
    "not applicable": Medication.NOT_APPLICABLE,
}
MAX_ERRORS_PER_ROW = 5


@dataclass
class Row:
    """One row as it will be stored: `checkin` holds `checkins.record`'s keyword arguments (recorded_at aware,
    activities as labels), `journal` the text of a journal entry to write beside it (or "")."""

    line: int
    checkin: dict
    journal: str = ""
    fingerprint: str = ""


@dataclass
class RowError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": str(self.message)}


@dataclass
class FileProblem(Exception):
    """The file as a whole cannot be read (empty, no such column): nothing in it is imported."""

    field: str
    message: str

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class Options:
    """How a file is read. `mapping` (generic CSV: field → column), `mood_map` (Daylio: label → 0–10),
    `date_format` (strptime), `tz` (zoneinfo name; the member's when empty), `delimiter` (sniffed when empty)."""

    mapping: dict[str, str] = field(default_factory=dict)
    mood_map: dict[str, int] = field(default_factory=dict)
    date_format: str = ""
    tz: str = ""
    delimiter: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def parse_pairs(pairs: Iterable[str], *, what: str) -> dict[str, str]:
    """`["mood=How I feel", ...]` → `{"mood": "How I feel"}`; blank entries are skipped."""
    found = {}
    for pair in pairs:
        pair = pair.strip()
        if not pair:
            continue
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise FileProblem(what, _("Write each as NAME=VALUE: “%(pair)s” is not.") % {"pair": pair})
        found[name.strip()] = value.strip()
    return found


def mood_map_from(pairs: dict[str, str]) -> dict[str, int]:
    moods = {}
    for label, value in pairs.items():
        try:
            number = int(value)
        except ValueError:
            number = -1
        if not 0 <= number <= 10:
            raise FileProblem("mood_map", _("Mood “%(label)s” needs a whole number from 0 to 10.") % {"label": label})
        moods[label.strip().lower()] = number
    return moods


# Reading lines -------------------------------------------------------------------------------------------------


# A carriage return that does not end a Windows line ends a line of its own (files saved by old Mac software).
BARE_RETURN = re.compile(r"(?<=\r)(?!\n)")


def _lines_of(stream) -> Iterator[str]:
    """The stream's lines as csv's universal-newline mode would give them: a bare CR ends a line too."""
    for line in stream:
        if "\r" in line:
            yield from (part for part in BARE_RETURN.split(line) if part)
        else:
            yield line


def _header_and_rows(stream, delimiter: str) -> tuple[list[str], Iterator[list[str]], csv.reader]:
    stream = _lines_of(stream)
    first = next(stream, "")
    while first and not first.strip():
        first = next(stream, "")
    if not first:
        raise FileProblem("file", _("The file is empty."))
    first = first.lstrip("\ufeff")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","

    def lines():
        yield first
        yield from stream

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise FileProblem("file", _("The first line cannot be read as CSV: %(error)s") % {"error": error}) from None
    return header, reader, reader


def _rows(reader) -> Iterator[tuple[int, list[str] | RowError]]:
    """Each line with its cells; a line csv cannot read (a quote never closed runs past csv's field size limit)
    is a RowError, and reading stops there, since what follows it is no longer in step."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = _("This line cannot be read as CSV (is a quote left open?): %(error)s") % {"error": error}
            yield reader.line_num, RowError(reader.line_num, "file", message)
            return
        if not any(cell.strip() for cell in cells):
            continue
        yield reader.line_num, cells


def _column(header: list[str], names: Iterable[str]) -> int | None:
    lowered = [name.lower() for name in header]
    for name in names:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


# Values --------------------------------------------------------------------------------------------------------


def _whole_number(value: str, name: str, errors: list, line: int, *, top: int, refusal: str) -> int | None:
    """A whole number from 0 to `top`, None for an empty cell; anything else is a row error saying `refusal`."""
    if value == "":
        return None
    try:
        number = Decimal(value)
        if number != number.to_integral_value() or not 0 <= number <= top:
            raise InvalidOperation
    except InvalidOperation:
        errors.append(RowError(line, name, refusal % {"value": value}))
        return None
    return int(number)


def _scale(value: str, name: str, errors: list, line: int) -> int | None:
    return _whole_number(
        value, name, errors, line, top=10, refusal=_("“%(value)s” is not a whole number from 0 to 10.")
    )


def _sleep(value: str, errors: list, line: int):
    if value == "":
        return None
    try:
        hours = Decimal(value.replace(",", "."))
        if not 0 <= hours <= 24:
            raise InvalidOperation
    except InvalidOperation:
        errors.append(
            RowError(line, "sleep_hours", _("“%(value)s” is not a number of hours from 0 to 24.") % {"value": value})
        )
        return None
    return hours.quantize(Decimal("0.01"))


def _medication(value: str, errors: list, line: int, *, names_mean_taken: bool = False) -> str:
    word = value.strip().lower()
    if not word:
        return ""
    if word in MEDICATION_WORDS:
        return MEDICATION_WORDS[word]
    if names_mean_taken:
        return Medication.TAKEN
    errors.append(
        RowError(line, "medication", _("“%(value)s” is not taken, not taken or not applicable.") % {"value": value})
    )
    return ""


def _time_of_day(value: str) -> time | None:
    text = value.strip().upper()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).time()  # noqa: DTZ007 (a wall-clock time)
        except ValueError:
            continue
    return None


def _date(value: str, date_format: str, formats: Iterable[str] = ("%Y-%m-%d",)) -> date | None:
    for fmt in [date_format] if date_format else formats:
        try:
            return datetime.strptime(value.strip(), fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    return None


def _aware(local: datetime, zone: ZoneInfo) -> datetime:
    return local if local.tzinfo else local.replace(tzinfo=zone)


def _note_text(value: str) -> str:
    """Daylio notes may carry simple markup (line breaks, bold, lists): kept as plain text."""
    value = re.sub(r"(?i)<br\s*/?>|</p>|</li>", "\n", value)
    return html.unescape(strip_tags(value)).strip()


def fingerprint(source: str, local_when: str, checkin: dict, journal: str) -> str:
    """The same row (same source, same local wall-clock time as written, same values) gives the same key, so a
    later, longer export of the same diary, or the same file read with another time zone, adds nothing twice."""
    values = {
        k: str(v)
        for k, v in sorted(checkin.items())
        if k not in ("recorded_at", "source") and v not in (None, "", [], ())
    }
    values["activities"] = sorted(label.lower() for label in checkin.get("activities", ()))
    payload = json.dumps([source, local_when, values, journal], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _finish(source: str, line: int, local: datetime, zone: ZoneInfo, checkin: dict, journal: str, errors: list):
    recorded_at = _aware(local, zone)
    if recorded_at > timezone.now() + FUTURE_TOLERANCE:
        errors.append(RowError(line, "date", _("That time is in the future.")))
    note = checkin.get("note", "")
    if len(note) > MAX_NOTE_LENGTH:
        errors.append(RowError(line, "note", _("The note is longer than %(n)s characters.") % {"n": MAX_NOTE_LENGTH}))
    if len(journal) > MAX_JOURNAL_LENGTH:
        journal = journal[:MAX_JOURNAL_LENGTH]  # a journal entry's limit; the rest of a very long note is cut
    for label in checkin.get("activities", ()):
        if len(label) > 60:
            errors.append(
                RowError(
                    line,
                    "activities",
                    _("An activity “%(label)s…” is longer than 60 characters.") % {"label": label[:20]},
                )
            )
    if errors:
        return errors[:MAX_ERRORS_PER_ROW]
    for name in SCALE_FIELDS:
        checkin.setdefault(name, None)
    checkin["recorded_at"] = recorded_at
    key = fingerprint(source, local.replace(tzinfo=None).isoformat(), checkin, journal)
    return Row(line=line, checkin=checkin, journal=journal, fingerprint=key)


# Daylio --------------------------------------------------------------------------------------------------------


def read_daylio(stream, *, zone: ZoneInfo, options: Options) -> Iterator[Row | RowError]:
    moods = {**DAYLIO_MOODS, **{k.lower(): v for k, v in options.mood_map.items()}}
    header, reader, _r = _header_and_rows(stream, options.delimiter or ",")
    index = {name: _column(header, [name]) for name in DAYLIO_COLUMNS}
    missing = [name for name in ("full_date", "time", "mood") if index[name] is None]
    if missing:
        raise FileProblem(
            "file", _("This is not a Daylio export: it has no column %(names)s.") % {"names": ", ".join(missing)}
        )
    for line, cells in _rows(reader):
        if isinstance(cells, RowError):
            yield cells
            continue
        errors: list[RowError] = []
        day = _date(_cell(cells, index["full_date"]), options.date_format)
        if day is None:
            errors.append(
                RowError(
                    line,
                    "full_date",
                    _("“%(value)s” is not a date (%(format)s).")
                    % {"value": _cell(cells, index["full_date"]), "format": options.date_format or "YYYY-MM-DD"},
                )
            )
        at = _time_of_day(_cell(cells, index["time"]))
        if at is None:
            errors.append(
                RowError(line, "time", _("“%(value)s” is not a time of day.") % {"value": _cell(cells, index["time"])})
            )
        label = " ".join(_cell(cells, index["mood"]).lower().split())
        if label not in moods:
            errors.append(
                RowError(
                    line,
                    "mood",
                    _("Unknown mood “%(label)s”: give it a value (for example %(label)s=6).") % {"label": label},
                )
            )
        activities = [" ".join(a.split()) for a in _cell(cells, index["activities"]).split("|")]
        title, text = _note_text(_cell(cells, index["note_title"])), _note_text(_cell(cells, index["note"]))
        journal = "\n\n".join(part for part in (title, text) if part)
        if errors:
            yield from errors[:MAX_ERRORS_PER_ROW]
            continue
        checkin = {"mood": moods[label], "activities": [a for a in dict.fromkeys(activities) if a]}
        done = _finish("daylio", line, datetime.combine(day, at), zone, checkin, journal, errors)
        yield from done if isinstance(done, list) else [done]


# eMoods --------------------------------------------------------------------------------------------------------


def _rating(value: str, name: str, errors: list, line: int) -> int | None:
    return _whole_number(value, name, errors, line, top=3, refusal=_("“%(value)s” is not a rating from 0 to 3."))


def read_emoods(stream, *, zone: ZoneInfo, options: Options) -> Iterator[Row | RowError]:
    header, reader, _r = _header_and_rows(stream, options.delimiter)
    index = {name: _column(header, aliases) for name, aliases in EMOODS_COLUMNS.items()}
    missing = [name for name in ("date", "depressed") if index[name] is None]
    if missing:
        raise FileProblem(
            "file", _("This is not an eMoods export: it has no column %(names)s.") % {"names": ", ".join(missing)}
        )
    for line, cells in _rows(reader):
        if isinstance(cells, RowError):
            yield cells
            continue
        errors: list[RowError] = []
        raw_day = _cell(cells, index["date"])
        when = None
        if "T" in raw_day or (" " in raw_day and not options.date_format):
            try:
                when = datetime.fromisoformat(raw_day)
            except ValueError:
                when = None
        if when is None:
            day = _date(raw_day, options.date_format, EMOODS_DATE_FORMATS)
            if day is None:
                errors.append(
                    RowError(
                        line,
                        "date",
                        _("“%(value)s” is not a date (%(format)s).")
                        % {"value": raw_day, "format": options.date_format or "YYYY-MM-DD or MM/DD/YYYY"},
                    )
                )
            else:
                at = _time_of_day(_cell(cells, index["time"])) if _cell(cells, index["time"]) else EMOODS_DEFAULT_TIME
                if at is None:
                    errors.append(
                        RowError(
                            line,
                            "time",
                            _("“%(value)s” is not a time of day.") % {"value": _cell(cells, index["time"])},
                        )
                    )
                else:
                    when = datetime.combine(day, at)
        ratings = {
            name: _rating(_cell(cells, index[name]), name, errors, line)
            for name in ("depressed", "elevated", "irritability", "anxiety")
        }
        if ratings["depressed"] is None and not any(e.field == "depressed" for e in errors):
            errors.append(RowError(line, "depressed", _("Each day needs a depressed-mood rating (0 to 3).")))
        sleep = _sleep(_cell(cells, index["sleep"]), errors, line)
        medication = _medication(_cell(cells, index["medications"]), errors, line, names_mean_taken=True)
        journal = _note_text(_cell(cells, index["notes"]))
        if errors:
            yield from errors[:MAX_ERRORS_PER_ROW]
            continue
        tags, kept = [], []
        for name, tag in (("elevated", _("Elevated mood")), ("irritability", _("Irritability"))):
            if ratings[name]:
                tags.append(tag)
                kept.append(f"{name} {ratings[name]}/3 ({EMOODS_LEVELS[ratings[name]]})")
        checkin = {
            "mood": EMOODS_SCALES["mood"](ratings["depressed"]),
            "anxiety": None if ratings["anxiety"] is None else EMOODS_SCALES["anxiety"](ratings["anxiety"]),
            "sleep_hours": sleep,
            "medication": medication,
            "activities": tags,
            "note": ("eMoods: " + ", ".join(kept)) if kept else "",
        }
        done = _finish("emoods", line, when, zone, checkin, journal, errors)
        yield from done if isinstance(done, list) else [done]


# Any CSV or TSV ------------------------------------------------------------------------------------------------


def check_mapping(mapping: dict[str, str]) -> None:
    unknown = [name for name in mapping if name not in CSV_FIELDS]
    if unknown:
        raise FileProblem(
            "mapping",
            _("Unknown field %(names)s; fields are %(fields)s.")
            % {"names": ", ".join(unknown), "fields": ", ".join(CSV_FIELDS)},
        )
    if "mood" not in mapping:
        raise FileProblem("mapping", _("Map the mood column (mood=COLUMN): every check-in has a mood."))
    if "timestamp" not in mapping and "date" not in mapping:
        raise FileProblem("mapping", _("Map a timestamp column, or a date column (and a time column)."))


def read_csv(stream, *, zone: ZoneInfo, options: Options) -> Iterator[Row | RowError]:
    mapping = options.mapping
    check_mapping(mapping)
    header, reader, _r = _header_and_rows(stream, options.delimiter)
    index = {name: _column(header, [column]) for name, column in mapping.items()}
    missing = [mapping[name] for name, i in index.items() if i is None]
    if missing:
        hint = ""
        if len(header) == 1:
            hint = " " + _("The file reads as one column: is it separated by another character?")
        raise FileProblem(
            "mapping",
            _("The file has no column %(names)s (it has: %(header)s).")
            % {"names": ", ".join(missing), "header": ", ".join(header)[:200]}
            + hint,
        )
    for line, cells in _rows(reader):
        if isinstance(cells, RowError):
            yield cells
            continue
        errors: list[RowError] = []
        when = None
        if "timestamp" in mapping:
            raw = _cell(cells, index["timestamp"])
            try:
                # Naive unless the file gives an offset: then it is the wall clock of the chosen time zone.
                parse = datetime.fromisoformat if not options.date_format else None
                when = parse(raw) if parse else datetime.strptime(raw, options.date_format)  # noqa: DTZ007
            except ValueError:
                errors.append(
                    RowError(
                        line,
                        "timestamp",
                        _("“%(value)s” is not a date and time (%(format)s).")
                        % {"value": raw, "format": options.date_format or "ISO 8601"},
                    )
                )
        else:
            raw = _cell(cells, index["date"])
            day = _date(raw, options.date_format)
            if day is None:
                errors.append(
                    RowError(
                        line,
                        "date",
                        _("“%(value)s” is not a date (%(format)s).")
                        % {"value": raw, "format": options.date_format or "YYYY-MM-DD"},
                    )
                )
            at = time(12, 0)
            if "time" in mapping:
                at = _time_of_day(_cell(cells, index["time"]))
                if at is None:
                    errors.append(
                        RowError(
                            line,
                            "time",
                            _("“%(value)s” is not a time of day.") % {"value": _cell(cells, index["time"])},
                        )
                    )
            if day is not None and at is not None:
                when = datetime.combine(day, at)
        checkin: dict = {}
        for name in SCALE_FIELDS:
            if name in mapping:
                checkin[name] = _scale(_cell(cells, index[name]), name, errors, line)
        if "mood" in mapping and checkin.get("mood") is None and not any(e.field == "mood" for e in errors):
            errors.append(RowError(line, "mood", _("Every check-in needs a mood (0 to 10).")))
        if "sleep_hours" in mapping:
            checkin["sleep_hours"] = _sleep(_cell(cells, index["sleep_hours"]), errors, line)
        if "medication" in mapping:
            checkin["medication"] = _medication(_cell(cells, index["medication"]), errors, line)
        if "note" in mapping:
            checkin["note"] = _cell(cells, index["note"])
        if "tags" in mapping:
            labels = re.split(r"[|;]", _cell(cells, index["tags"]))
            checkin["activities"] = [t for t in dict.fromkeys(" ".join(label.split()) for label in labels) if t]
        if errors:
            yield from errors[:MAX_ERRORS_PER_ROW]
            continue
        done = _finish("csv", line, when, zone, checkin, "", errors)
        yield from done if isinstance(done, list) else [done]


READERS = {"daylio": read_daylio, "emoods": read_emoods, "csv": read_csv}
