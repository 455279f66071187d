"""Properties of repeat rules, for any text: `clean_rule` accepts it or refuses it with a ValidationError on
`rrule`, and every accepted rule expands (bounded) into starts that turn into instants; the repeat form likewise
makes a rule or names its field."""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alongside.schedule import series
from alongside.schedule.forms import RepeatChoice, RepeatForm

PROPERTIES = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.dates(date(1900, 1, 1), date(2200, 12, 31))
ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia"])
STARTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)).map(  # noqa: DTZ001
    lambda moment: moment.replace(second=0, microsecond=0)
)
VALUES = {
    "FREQ": ["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "SECONDLY", "daily", ""],
    "COUNT": ["1", "0", "-1", "10", "520", "521", "99999999999999999999", "x", ""],
    "UNTIL": ["20300101", "20300101T120000Z", "19000101T000000", "99991231T235959Z", "2030-01-01", "Z", ""],
    "INTERVAL": ["1", "2", "0", "-3", "1000000", "x"],
    "BYDAY": ["MO", "MO,TH", "-1FR", "2TU", "53MO", "XX", "+1SU", ""],
    "BYMONTHDAY": ["1", "31", "-1", "30", "0", "32", "1,15"],
    "BYMONTH": ["2", "12", "13", "0", "2,4"],
    "BYSETPOS": ["1", "-1", "0", "400"],
    "BYYEARDAY": ["1", "366", "-366", "0"],
    "BYWEEKNO": ["1", "53", "-53", "0"],
    "BYHOUR": ["0", "23", "24"],
    "WKST": ["MO", "SU", "XX"],
    "X-NAME": ["anything"],
}
PART = st.sampled_from(sorted(VALUES)).flatmap(lambda name: st.sampled_from(VALUES[name]).map(lambda v: f"{name}={v}"))
FREQ = st.sampled_from(VALUES["FREQ"][:4]).map(lambda value: f"FREQ={value}")
# The first values of each part are usable ones.
USABLE = st.sampled_from(sorted(VALUES)).flatmap(
    lambda name: st.sampled_from(VALUES[name][:3]).map(lambda v: f"{name}={v}")
)
# Mostly a usable frequency first, then any parts: rules that get past the first checks and reach the expansion.
RULE_LIKE = st.tuples(st.one_of(FREQ, PART), st.lists(st.one_of(USABLE, USABLE, PART), max_size=4)).map(
    lambda t: ";".join([t[0], *t[1]])
)
ANY_RULE = st.one_of(RULE_LIKE, RULE_LIKE.map(lambda rule: "RRULE:" + rule + ";"), st.text(max_size=40))


def check_accepted(rule: str, start: datetime, zone: str) -> None:
    """An accepted rule expands, within bounds, into local starts that each have a UTC instant."""
    names = [part.split("=", 1)[0] for part in rule.split(";")]
    assert len(names) == len(set(names)), "each part once, so calendar clients read the rule as Alongside does"
    starts = list(islice(series.rule_starts(rule, start.date(), start.time(), zone), series.MAX_OCCURRENCES + 1))
    assert starts and starts == sorted(starts)
    assert series.first_start(rule, start.date(), start.time(), zone) == starts[0]
    if not series.is_open_ended(rule):
        assert len(starts) <= series.MAX_OCCURRENCES
    for local in starts[:50]:
        begins, ends = series.instants(local, zone, 50)
        # A start in the hour the clocks skip is the moment they jump, and so may be its end: never before it.
        assert begins <= ends
    assert series.rule_in_words(rule)


@PROPERTIES
@given(rule=ANY_RULE, start=STARTS, zone=ZONES)
def test_any_rule_is_accepted_and_expands_or_is_refused_naming_rrule(rule, start, zone):
    try:
        cleaned = series.clean_rule(rule, start, ZoneInfo(zone))
    except ValidationError as error:
        assert set(error.message_dict) == {"rrule"}
        return
    if cleaned:
        print("ACCEPTED", cleaned)
        check_accepted(cleaned, start, zone)


CHOICES = [RepeatChoice.NONE, RepeatChoice.WEEKLY, RepeatChoice.FORTNIGHTLY, RepeatChoice.MONTHLY, RepeatChoice.CUSTOM]


class RepeatingForm(RepeatForm):
    start_date = forms.DateField()


@PROPERTIES
@given(
    data=st.fixed_dictionaries(
        {
            "start_date": st.one_of(DAYS.map(str), st.text(max_size=10)),
            "repeat": st.one_of(st.sampled_from(CHOICES), st.text(max_size=5)),
            "count": st.one_of(st.just(""), st.integers(-5, 2000).map(str), st.text(max_size=4)),
            "until": st.one_of(st.just(""), DAYS.map(str), st.text(max_size=10)),
            "custom_rule": ANY_RULE,
        }
    ),
    zone=ZONES,
)
def test_the_repeat_form_makes_a_rule_or_names_its_fields(data, zone):
    form = RepeatingForm(data)
    if not form.is_valid():
        assert set(form.errors) <= set(RepeatingForm.base_fields)
        return
    start = datetime.combine(form.cleaned_data["start_date"], time(18, 0))
    try:
        rule = series.clean_rule(form.rule(), start, ZoneInfo(zone))
    except ValidationError as error:
        assert set(error.message_dict) == {"rrule"}
        return
    if rule:
        check_accepted(rule, start, zone)
