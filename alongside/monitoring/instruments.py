"""Standard questionnaires (PHQ-9, GAD-7, WHO-5): their definitions, and scoring a response.

Each instrument is one JSON file in `instruments/` holding its wording, answer options, bands, caseness,
safety rules, reliable-change threshold, codes and source. This module holds no clinical facts of its own:
it checks a definition thoroughly when it is loaded, so a mistake in a file stops the product from starting
instead of mis-scoring a member's answers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources

from pydantic import BaseModel, ConfigDict, StrictInt, ValidationError, model_validator

BUILTIN = ("phq9", "gad7", "who5")
LOINC = "http://loinc.org"
SCORING_METHODS = ("sum",)
DIRECTIONS = ("at_or_above", "at_or_below")

IMPROVED = "improved"
DETERIORATED = "deteriorated"
NO_RELIABLE_CHANGE = "no reliable change"

LOINC_CODE = re.compile(r"^\d{1,7}-\d$")
LOINC_ANSWER = re.compile(r"^LA\d{1,7}-\d$")
# A program's questionnaire is stored by code and name (monitoring.ProgramInstrument), and its code is in URLs.
CODE = re.compile(r"[-a-zA-Z0-9_]{1,30}")
NAME_MAX_LENGTH = 80


class InstrumentError(ValueError):
    """An instrument definition is invalid. The message is one line: the file, then the problem."""


class _Part(BaseModel):
    # Strict: a score of "1" or 1.5 in a definition is a mistake to report, not a value to coerce.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Option(_Part):
    label: str
    score: StrictInt
    loinc: str | None = None


class Item(_Part):
    number: StrictInt
    text: str
    loinc: str | None = None


class FollowupOption(_Part):
    label: str


class Followup(_Part):
    """An unscored question after the items (PHQ-9's "how difficult…"); the answer is stored as its label."""

    text: str
    options: tuple[FollowupOption, ...]
    note: str = ""


class Scoring(_Part):
    method: str
    multiplier: StrictInt = 1  # total = raw x multiplier (WHO-5: 4, giving its percentage score)
    note: str = ""


class Range(_Part):
    min: StrictInt
    max: StrictInt


class Band(_Part):
    min: StrictInt
    max: StrictInt
    label: str
    note: str = ""


class Caseness(_Part):
    threshold: StrictInt
    direction: str
    note: str = ""


class SafetyRule(_Part):
    item: StrictInt
    min_score: StrictInt
    note: str = ""


class ReliableChange(_Part):
    threshold: StrictInt
    better: str  # "lower" (PHQ-9, GAD-7) or "higher" (WHO-5)
    basis: str = ""


class Codes(_Part):
    system: str
    panel: str
    total: str


class Instrument(_Part):
    code: str
    name: str
    version: str
    citation: str
    licence: str
    stem: str
    options: tuple[Option, ...]
    items: tuple[Item, ...]
    followup: Followup | None = None
    scoring: Scoring
    total: Range
    bands: tuple[Band, ...]
    caseness: Caseness
    safety_rules: tuple[SafetyRule, ...] = ()
    reliable_change: ReliableChange
    codes: Codes
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        _check(self)
        return self

    @property
    def multiplier(self) -> int:
        return self.scoring.multiplier

    @property
    def raw_min(self) -> int:
        return len(self.items) * min(option.score for option in self.options)

    @property
    def raw_max(self) -> int:
        return len(self.items) * max(option.score for option in self.options)

    @property
    def total_min(self) -> int:
        return self.total.min

    @property
    def total_max(self) -> int:
        return self.total.max

    @property
    def caseness_threshold(self) -> int:
        return self.caseness.threshold

    @property
    def caseness_direction(self) -> str:
        return self.caseness.direction

    @property
    def safety_items(self) -> tuple[tuple[int, int], ...]:
        """(item number, lowest score that triggers the rule) pairs."""
        return tuple((rule.item, rule.min_score) for rule in self.safety_rules)

    @property
    def loinc_panel(self) -> str | None:
        return self.codes.panel if self.codes.system == LOINC else None

    @property
    def loinc_total(self) -> str | None:
        return self.codes.total if self.codes.system == LOINC else None

    def band_for(self, total: int) -> str:
        return next(band.label for band in self.bands if band.min <= total <= band.max)


def _check(d: Instrument) -> None:
    """The rules a definition must follow beyond its shape. Raises ValueError with a one-line message."""
    for name in ("code", "name", "version", "citation", "licence", "stem"):
        if not getattr(d, name).strip():
            raise ValueError(f"{name} is empty")

    if not CODE.fullmatch(d.code):
        raise ValueError(f"code {d.code[:40]!r} must be 1 to 30 letters, digits, hyphens or underscores")
    if len(d.name) > NAME_MAX_LENGTH:
        raise ValueError(f"name is longer than {NAME_MAX_LENGTH} characters")
    if len(d.options) < 2:
        raise ValueError("there must be at least two options")
    for position, option in enumerate(d.options, start=1):
        if not option.label.strip():
            raise ValueError(f"option {position} has no label")
        if option.loinc is not None and not LOINC_ANSWER.match(option.loinc):
            raise ValueError(f"option {option.label!r} has {option.loinc!r}, which is not a LOINC answer code")
    if len({option.score for option in d.options}) != len(d.options):
        raise ValueError("option scores must be unique")
    if len({option.label for option in d.options}) != len(d.options):
        raise ValueError("option labels must be unique")

    numbers = [item.number for item in d.items]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"item numbers must run 1..n in order without gaps, found {numbers}")
    for item in d.items:
        if not item.text.strip():
            raise ValueError(f"item {item.number} has no text")
        if item.loinc is not None and not LOINC_CODE.match(item.loinc):
            raise ValueError(f"item {item.number} has {item.loinc!r}, which is not a LOINC code")

    if d.followup is not None:
        if not d.followup.text.strip():
            raise ValueError("the follow-up question has no text")
        labels = [option.label for option in d.followup.options]
        if len(labels) < 2 or not all(label.strip() for label in labels) or len(set(labels)) != len(labels):
            raise ValueError("the follow-up question needs at least two distinct, non-empty options")

    if d.scoring.method not in SCORING_METHODS:
        raise ValueError(f"unknown scoring method {d.scoring.method!r}")
    if d.scoring.multiplier < 1:
        raise ValueError("the scoring multiplier must be a positive integer")
    expected = (d.raw_min * d.multiplier, d.raw_max * d.multiplier)
    if (d.total_min, d.total_max) != expected:
        found, wanted = f"{d.total_min}-{d.total_max}", f"{expected[0]}-{expected[1]}"
        raise ValueError(f"total range {found} does not match the items and options ({wanted})")

    _check_bands(d)

    if d.caseness.direction not in DIRECTIONS:
        raise ValueError(f"unknown caseness direction {d.caseness.direction!r} (use {' or '.join(DIRECTIONS)})")
    if not d.total_min <= d.caseness.threshold <= d.total_max:
        raise ValueError(f"caseness threshold {d.caseness.threshold} is outside the total range")

    lowest, highest = min(o.score for o in d.options), max(o.score for o in d.options)
    for rule in d.safety_rules:
        if not 1 <= rule.item <= len(d.items):
            raise ValueError(f"safety rule names item {rule.item} but there are {len(d.items)} items")
        # A rule every answer triggers, or no answer can trigger, is a mistake in the file.
        if not lowest < rule.min_score <= highest:
            raise ValueError(f"safety rule for item {rule.item} needs min_score between {lowest + 1} and {highest}")

    if d.reliable_change.threshold < 1:
        raise ValueError("the reliable change threshold must be a positive integer")
    if d.reliable_change.better not in ("lower", "higher"):
        raise ValueError(f"reliable_change.better must be 'lower' or 'higher', not {d.reliable_change.better!r}")

    if not (d.codes.system.strip() and d.codes.panel.strip() and d.codes.total.strip()):
        raise ValueError("codes need a system, a panel code and a total code")
    if d.codes.system == LOINC:
        for code in (d.codes.panel, d.codes.total):
            if not LOINC_CODE.match(code):
                raise ValueError(f"{code!r} is not a LOINC code")


def _check_bands(d: Instrument) -> None:
    if not d.bands:
        raise ValueError("there are no bands")
    labels = [band.label for band in d.bands]
    if not all(label.strip() for label in labels) or len(set(labels)) != len(labels):
        raise ValueError("band labels must be non-empty and unique")
    for band in d.bands:
        if band.min > band.max:
            raise ValueError(f"band {band.label!r} has min {band.min} above max {band.max}")
    # Every whole score in the total range must fall in exactly one band.
    covered_to = d.total_min - 1
    for band in sorted(d.bands, key=lambda band: band.min):
        if band.min <= covered_to:
            raise ValueError(f"bands overlap at {band.min}")
        if band.min > covered_to + 1:
            raise ValueError(f"bands leave {_scores(covered_to + 1, band.min - 1)} uncovered")
        covered_to = band.max
    if covered_to < d.total_max:
        raise ValueError(f"bands leave {_scores(covered_to + 1, d.total_max)} uncovered")
    if covered_to > d.total_max:
        raise ValueError(f"bands go beyond the total range ({d.total_min}-{d.total_max})")


def _scores(low: int, high: int) -> str:
    return f"score {low}" if low == high else f"scores {low}-{high}"


def _describe(error: ValidationError) -> str:
    """Pydantic's report, cut to one line about the first problem."""
    first = error.errors()[0]
    if first["type"] == "value_error":
        message = str(first["ctx"]["error"])
    elif first["type"] == "json_invalid":
        message = f"not valid JSON: {first['ctx']['error']}"
    else:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        message = f"{where}: {first['msg']}" if where else first["msg"]
    more = error.error_count() - 1
    return message + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def parse(text: str, *, source: str = "<definition>") -> Instrument:
    """Read and check one instrument definition (JSON text); raise InstrumentError if anything is wrong."""
    try:
        return Instrument.model_validate_json(text)
    except ValidationError as error:
        raise InstrumentError(f"{source}: {_describe(error)}") from None


@functools.cache
def _builtin() -> dict[str, Instrument]:
    folder = resources.files(__package__).joinpath("instruments")
    found = {}
    for code in BUILTIN:
        name = f"{code}.json"
        instrument = parse(folder.joinpath(name).read_text(encoding="utf-8"), source=name)
        if instrument.code != code:
            raise InstrumentError(f"{name}: code {instrument.code!r} does not match the file name")
        found[code] = instrument
    return found


def load_builtin() -> dict[str, Instrument]:
    """The built-in instruments by code (read and checked once per process)."""
    return dict(_builtin())


def get(code: str) -> Instrument:
    try:
        return _builtin()[code]
    except KeyError:
        raise KeyError(f"unknown instrument {code!r}; known: {', '.join(BUILTIN)}") from None


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int to Python, not to us


@dataclass(frozen=True)
class Score:
    raw: int | None  # sum of the answers
    total: int | None  # the reported score: raw x multiplier (WHO-5: the percentage)
    band: str | None
    complete: bool
    missing_items: list[int] = field(default_factory=list)
    safety_items: list[int] = field(default_factory=list)  # items whose answer triggered a safety rule
    is_case: bool | None = None


def score(instrument: Instrument, answers: dict[int, int], caseness_threshold: int | None = None) -> Score:
    """Score a response. `answers` maps item number to the chosen option's score (absent or None: unanswered).

    A response with an unanswered item is not scored (raw, total, band and is_case are None), but its
    safety rules are still applied: a positive PHQ-9 item 9 is a safety event whatever else is missing.
    `caseness_threshold` replaces the instrument's default (a program may set GAD-7 to 8).
    """
    allowed = sorted(option.score for option in instrument.options)
    given: dict[int, int] = {}
    for number, value in answers.items():
        if not _whole(number) or not 1 <= number <= len(instrument.items):
            raise ValueError(f"{instrument.name} has no item {number!r} (items are 1-{len(instrument.items)})")
        if value is None:
            continue
        if not _whole(value) or value not in allowed:
            raise ValueError(f"{instrument.name} item {number}: {value!r} is not one of the answer scores {allowed}")
        given[number] = value
    if caseness_threshold is not None and not _whole(caseness_threshold):
        raise ValueError(f"caseness threshold must be a whole number, not {caseness_threshold!r}")

    # Safety rules look only at the answers given, so they apply to incomplete responses too.
    safety = sorted({r.item for r in instrument.safety_rules if r.item in given and given[r.item] >= r.min_score})
    missing = [item.number for item in instrument.items if item.number not in given]
    if missing:
        return Score(None, None, None, False, missing, safety, None)

    raw = sum(given.values())
    total = raw * instrument.multiplier
    threshold = instrument.caseness_threshold if caseness_threshold is None else caseness_threshold
    is_case = total >= threshold if instrument.caseness_direction == "at_or_above" else total <= threshold
    return Score(raw, total, instrument.band_for(total), True, [], safety, is_case)


def reliable_change(instrument: Instrument, before_total: int, after_total: int) -> str:
    """IMPROVED, DETERIORATED or NO_RELIABLE_CHANGE between two totals (WHO-5: percentage scores), knowing
    whether lower (PHQ-9, GAD-7) or higher (WHO-5) is better."""
    for value in (before_total, after_total):
        if not _whole(value) or not instrument.total_min <= value <= instrument.total_max:
            raise ValueError(
                f"{instrument.name} total must be {instrument.total_min}-{instrument.total_max}, not {value!r}"
            )
    change = after_total - before_total
    if abs(change) < instrument.reliable_change.threshold:
        return NO_RELIABLE_CHANGE
    got_better = change < 0 if instrument.reliable_change.better == "lower" else change > 0
    return IMPROVED if got_better else DETERIORATED
