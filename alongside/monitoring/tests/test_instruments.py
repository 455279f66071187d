"""The questionnaire definitions and their scoring. Expected wording, bands and codes are written out here from
the project's clinical reference, so a changed definition file has to be matched by a deliberate test change."""

import json
import re
from importlib import resources

import pytest

from alongside.monitoring import instruments
from alongside.monitoring.instruments import InstrumentError, parse, reliable_change, score

PHQ9 = instruments.get("phq9")
GAD7 = instruments.get("gad7")
WHO5 = instruments.get("who5")


def answers_for(instrument, raw, **fixed):
    """Answers to every item adding up to `raw`, filling items from the first; `item9=…` pins an item."""
    pinned = {int(name.removeprefix("item")): value for name, value in fixed.items()}
    top = max(option.score for option in instrument.options)
    left = raw - sum(pinned.values())
    answers = {}
    for item in instrument.items:
        if item.number in pinned:
            answers[item.number] = pinned[item.number]
        else:
            answers[item.number] = min(top, left)
            left -= answers[item.number]
    assert left == 0, "raw score not reachable with these pinned answers"
    return answers


def definition(code):
    """A built-in definition as a dict, to break in one place and parse again."""
    text = resources.files("alongside.monitoring").joinpath("instruments", f"{code}.json").read_text(encoding="utf-8")
    return json.loads(text)


# Built-in definitions


def test_the_three_instruments_load_with_their_names_and_versions():
    loaded = instruments.load_builtin()
    assert sorted(loaded) == ["gad7", "phq9", "who5"]
    assert [(i.code, i.name) for i in (PHQ9, GAD7, WHO5)] == [("phq9", "PHQ-9"), ("gad7", "GAD-7"), ("who5", "WHO-5")]
    assert all(i.version for i in loaded.values())
    assert loaded["phq9"] is PHQ9  # read once per process


def test_the_returned_mapping_is_a_copy():
    instruments.load_builtin().pop("phq9")
    assert instruments.get("phq9") is PHQ9


def test_an_unknown_code_says_which_codes_exist():
    with pytest.raises(KeyError, match=r"unknown instrument 'bdi'; known: phq9, gad7, who5"):
        instruments.get("bdi")


def test_each_definition_cites_its_source_and_licence():
    assert "Kroenke" in PHQ9.citation and "Spitzer" in PHQ9.citation and "2001" in PHQ9.citation
    assert "Löwe" in GAD7.citation and "2006" in GAD7.citation
    assert "1998" in WHO5.citation and "Topp" in WHO5.citation and "2015" in WHO5.citation
    assert "Pfizer" in PHQ9.licence and "No permission required" in PHQ9.licence
    assert "Pfizer" in GAD7.licence
    assert "WHO Collaborating Centre" in WHO5.licence and "attribution" in WHO5.licence


# Wording


def test_phq9_wording():
    assert PHQ9.stem == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    assert [(o.label, o.score) for o in PHQ9.options] == [
        ("Not at all", 0),
        ("Several days", 1),
        ("More than half the days", 2),
        ("Nearly every day", 3),
    ]
    assert [item.number for item in PHQ9.items] == list(range(1, 10))
    assert PHQ9.items[0].text == "Little interest or pleasure in doing things"
    assert PHQ9.items[5].text == (
        "Feeling bad about yourself — or that you are a failure or have let yourself or your family down"
    )
    assert PHQ9.items[7].text == (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or "
        "restless that you have been moving around a lot more than usual"
    )
    assert PHQ9.items[8].text == "Thoughts that you would be better off dead or of hurting yourself in some way"


def test_phq9_has_its_unscored_follow_up_question():
    assert PHQ9.followup.text == (
        "If you checked off any problems, how difficult have these problems made it for you to do your work, "
        "take care of things at home, or get along with other people?"
    )
    assert [o.label for o in PHQ9.followup.options] == [
        "Not difficult at all",
        "Somewhat difficult",
        "Very difficult",
        "Extremely difficult",
    ]
    assert GAD7.followup is None and WHO5.followup is None


def test_gad7_wording():
    assert GAD7.stem == "Over the last 2 weeks, how often have you been bothered by the following problems?"
    assert [o.label for o in GAD7.options] == [o.label for o in PHQ9.options]
    assert len(GAD7.items) == 7
    assert GAD7.items[0].text == "Feeling nervous, anxious, or on edge"
    assert GAD7.items[6].text == "Feeling afraid, as if something awful might happen"


def test_who5_wording():
    assert WHO5.stem == "Over the last two weeks:"
    assert [(o.label, o.score) for o in WHO5.options] == [
        ("All of the time", 5),
        ("Most of the time", 4),
        ("More than half of the time", 3),
        ("Less than half of the time", 2),
        ("Some of the time", 1),
        ("At no time", 0),
    ]
    assert WHO5.items[3].text == "I woke up feeling fresh and rested"
    assert WHO5.items[4].text == "My daily life has been filled with things that interest me"


# Codes


def test_loinc_codes():
    assert (PHQ9.loinc_panel, PHQ9.loinc_total) == ("44249-1", "44261-6")
    assert (GAD7.loinc_panel, GAD7.loinc_total) == ("69737-5", "70274-6")
    assert [item.loinc for item in PHQ9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    assert [item.loinc for item in GAD7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    answer_codes = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    assert [o.loinc for o in PHQ9.options] == answer_codes
    assert [o.loinc for o in GAD7.options] == answer_codes


def test_who5_has_no_loinc_codes_only_the_projects_own():
    assert WHO5.loinc_panel is None and WHO5.loinc_total is None
    assert WHO5.codes.system == "https://alongside.example/fhir/CodeSystem/instruments"
    assert (WHO5.codes.panel, WHO5.codes.total) == ("who5", "who5-percentage")
    assert all(item.loinc is None for item in WHO5.items)
    assert all(option.loinc is None for option in WHO5.options)


# Bands


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_edges(total, band):
    result = score(PHQ9, answers_for(PHQ9, total))
    assert (result.raw, result.total, result.band, result.complete) == (total, total, band, True)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_edges(total, band):
    result = score(GAD7, answers_for(GAD7, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("raw", "percentage", "band"),
    [
        (0, 0, "likely depression"),
        (7, 28, "likely depression"),
        (8, 32, "poor wellbeing"),
        (12, 48, "poor wellbeing"),
        (13, 52, "no indication of poor wellbeing"),
        (25, 100, "no indication of poor wellbeing"),
    ],
)
def test_who5_band_edges_on_the_percentage_score_keeping_the_raw_score(raw, percentage, band):
    result = score(WHO5, answers_for(WHO5, raw))
    assert (result.raw, result.total, result.band) == (raw, percentage, band)


def test_who5_band_limits_sit_at_28_and_50_percent():
    assert [(b.min, b.max) for b in WHO5.bands] == [(0, 28), (29, 50), (51, 100)]


def test_score_ranges():
    assert (PHQ9.total_min, PHQ9.total_max, GAD7.total_min, GAD7.total_max) == (0, 27, 0, 21)
    assert (WHO5.raw_min, WHO5.raw_max, WHO5.total_min, WHO5.total_max, WHO5.multiplier) == (0, 25, 0, 100, 4)


# Caseness


@pytest.mark.parametrize(("total", "is_case"), [(9, False), (10, True)])
def test_phq9_caseness_is_10_or_more(total, is_case):
    assert score(PHQ9, answers_for(PHQ9, total)).is_case is is_case


@pytest.mark.parametrize(
    ("total", "threshold", "is_case"),
    [(9, None, False), (10, None, True), (7, 8, False), (8, 8, True), (9, 8, True)],
)
def test_gad7_caseness_defaults_to_10_and_a_program_may_lower_it_to_8(total, threshold, is_case):
    assert score(GAD7, answers_for(GAD7, total), caseness_threshold=threshold).is_case is is_case


@pytest.mark.parametrize(("raw", "is_case"), [(12, True), (13, False)])
def test_who5_caseness_is_50_percent_or_below(raw, is_case):
    # 50 itself is not reachable (percentages are multiples of 4): 48 is the highest case, 52 the lowest non-case.
    assert (WHO5.caseness_threshold, WHO5.caseness_direction) == (50, "at_or_below")
    assert score(WHO5, answers_for(WHO5, raw)).is_case is is_case


def test_default_caseness_settings():
    assert (PHQ9.caseness_threshold, PHQ9.caseness_direction) == (10, "at_or_above")
    assert (GAD7.caseness_threshold, GAD7.caseness_direction) == (10, "at_or_above")


# The PHQ-9 item 9 safety rule


def test_phq9_item9_rule_is_defined():
    assert PHQ9.safety_items == ((9, 1),)
    assert GAD7.safety_items == () and WHO5.safety_items == ()


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_any_answer_but_not_at_all_to_item9_is_a_safety_event_even_with_a_minimal_total(item9):
    result = score(PHQ9, answers_for(PHQ9, item9, item9=item9))
    assert result.safety_items == [9]
    assert result.band == "minimal" and result.is_case is False


def test_item9_not_at_all_is_no_safety_event_even_with_a_high_total():
    result = score(PHQ9, answers_for(PHQ9, 24, item9=0))
    assert (result.total, result.band, result.safety_items) == (24, "severe", [])


def test_a_positive_item9_with_other_items_missing_is_a_safety_event_and_the_response_is_unscored():
    result = score(PHQ9, {1: 0, 2: 1, 9: 1})
    assert result.safety_items == [9]
    assert result.complete is False
    assert result.missing_items == [3, 4, 5, 6, 7, 8]
    assert (result.raw, result.total, result.band, result.is_case) == (None, None, None, None)


def test_item9_alone_is_enough_for_a_safety_event():
    assert score(PHQ9, {9: 3}).safety_items == [9]


# Incomplete and invalid responses


def test_a_response_with_a_missing_item_is_not_scored():
    answers = answers_for(GAD7, 21)
    del answers[4]
    result = score(GAD7, answers)
    assert (result.raw, result.total, result.band, result.is_case) == (None, None, None, None)
    assert (result.complete, result.missing_items, result.safety_items) == (False, [4], [])


def test_an_unanswered_item_given_as_none_counts_as_missing():
    answers = answers_for(WHO5, 25) | {2: None}
    result = score(WHO5, answers)
    assert (result.complete, result.missing_items, result.total) == (False, [2], None)


def test_an_empty_response_lists_every_item_as_missing():
    assert score(PHQ9, {}).missing_items == list(range(1, 10))


@pytest.mark.parametrize(
    ("instrument", "answers", "message"),
    [
        (PHQ9, {10: 0}, r"PHQ-9 has no item 10 \(items are 1-9\)"),
        (PHQ9, {0: 0}, r"PHQ-9 has no item 0"),
        (GAD7, {8: 1}, r"GAD-7 has no item 8"),
        (PHQ9, {"3": 1}, r"PHQ-9 has no item '3'"),
        (PHQ9, {3: 4}, r"PHQ-9 item 3: 4 is not one of the answer scores \[0, 1, 2, 3\]"),
        (PHQ9, {3: -1}, r"item 3: -1 is not one of the answer scores"),
        (PHQ9, {3: 1.0}, r"item 3: 1.0 is not one of the answer scores"),
        (PHQ9, {3: True}, r"item 3: True is not one of the answer scores"),
        (PHQ9, {3: "1"}, r"item 3: '1' is not one of the answer scores"),
        (WHO5, {1: 6}, r"WHO-5 item 1: 6 is not one of the answer scores \[0, 1, 2, 3, 4, 5\]"),
    ],
)
def test_unknown_items_and_scores_that_are_not_options_are_rejected(instrument, answers, message):
    with pytest.raises(ValueError, match=message):
        score(instrument, answers)


# Reliable change


@pytest.mark.parametrize(
    ("instrument", "before", "after", "result"),
    [
        (PHQ9, 20, 14, "improved"),
        (PHQ9, 20, 15, "no reliable change"),
        (PHQ9, 10, 16, "deteriorated"),
        (PHQ9, 10, 15, "no reliable change"),
        (PHQ9, 12, 12, "no reliable change"),
        (GAD7, 15, 11, "improved"),
        (GAD7, 15, 12, "no reliable change"),
        (GAD7, 8, 12, "deteriorated"),
        (GAD7, 8, 11, "no reliable change"),
        # WHO-5: percentage points, and higher is better.
        (WHO5, 40, 52, "improved"),
        (WHO5, 40, 50, "improved"),
        (WHO5, 40, 48, "no reliable change"),
        (WHO5, 52, 40, "deteriorated"),
        (WHO5, 52, 44, "no reliable change"),
    ],
)
def test_reliable_change_in_both_directions(instrument, before, after, result):
    assert reliable_change(instrument, before, after) == result


def test_reliable_change_thresholds():
    assert [(i.reliable_change.threshold, i.reliable_change.better) for i in (PHQ9, GAD7, WHO5)] == [
        (6, "lower"),
        (4, "lower"),
        (10, "higher"),
    ]


@pytest.mark.parametrize(("before", "after"), [(28, 20), (10, -1), (None, 10)])
def test_reliable_change_refuses_totals_outside_the_range(before, after):
    with pytest.raises(ValueError, match=r"PHQ-9 total must be 0-27"):
        reliable_change(PHQ9, before, after)


# Invalid definitions


def _set(path, value):
    def change(d):
        *parents, last = path
        for key in parents:
            d = d[key]
        d[last] = value

    return change


def _drop_item(number):
    def change(d):
        d["items"] = [item for item in d["items"] if item["number"] != number]

    return change


def _drop_band(label):
    def change(d):
        d["bands"] = [band for band in d["bands"] if band["label"] != label]

    return change


def _del(path):
    def change(d):
        *parents, last = path
        for key in parents:
            d = d[key]
        del d[last]

    return change


@pytest.mark.parametrize(
    ("code", "change", "message"),
    [
        ("phq9", _set(("items", 2, "text"), "  "), "phq9.json: item 3 has no text"),
        ("phq9", _del(("items", 2, "text")), "phq9.json: items[2].text: Field required"),
        ("phq9", _drop_item(5), "phq9.json: item numbers must run 1..n in order without gaps, found [1, 2, 3, 4, 6"),
        ("phq9", _set(("items", 0, "number"), 0), "item numbers must run 1..n"),
        ("phq9", _set(("bands", 2, "min"), 9), "phq9.json: bands overlap at 9"),
        ("phq9", _set(("bands", 3, "min"), 17), "phq9.json: bands leave scores 15-16 uncovered"),
        ("phq9", _drop_band("moderately severe"), "bands leave scores 15-19 uncovered"),
        ("phq9", _set(("bands", 4, "max"), 26), "bands leave score 27 uncovered"),
        ("phq9", _set(("bands", 0, "min"), 1), "bands leave score 0 uncovered"),
        ("phq9", _set(("bands", 4, "max"), 30), "bands go beyond the total range (0-27)"),
        ("phq9", _set(("bands", 1, "label"), "minimal"), "band labels must be non-empty and unique"),
        ("gad7", _set(("options", 1, "score"), 0), "gad7.json: option scores must be unique"),
        ("gad7", _set(("options", 1, "score"), "1"), "gad7.json: options[1].score: Input should be a valid intege"),
        ("gad7", _set(("options", 1, "score"), 1.5), "options[1].score: Input should be a valid intege"),
        ("gad7", _set(("options", 1, "label"), ""), "option 2 has no label"),
        ("gad7", _set(("options", 1, "loinc"), "LA6569"), "'LA6569', which is not a LOINC answer code"),
        ("phq9", _set(("safety_rules", 0, "item"), 12), "phq9.json: safety rule names item 12 but there are 9 items"),
        ("phq9", _set(("safety_rules", 0, "min_score"), 0), "safety rule for item 9 needs min_score between 1 and 3"),
        ("phq9", _set(("safety_rules", 0, "min_score"), 4), "safety rule for item 9 needs min_score between 1 and 3"),
        ("phq9", _set(("scoring", "method"), "median"), "phq9.json: unknown scoring method 'median'"),
        ("who5", _set(("scoring", "multiplier"), 5), "total range 0-100 does not match the items and options (0-125)"),
        ("phq9", _set(("total", "max"), 30), "total range 0-30 does not match the items and options (0-27)"),
        ("phq9", _set(("caseness", "direction"), "above"), "unknown caseness direction 'above'"),
        ("phq9", _set(("caseness", "threshold"), 28), "caseness threshold 28 is outside the total range"),
        ("phq9", _set(("reliable_change", "better"), "up"), "reliable_change.better must be 'lower' or 'higher'"),
        ("phq9", _set(("reliable_change", "threshold"), 0), "reliable change threshold must be a positive intege"),
        ("phq9", _set(("codes", "panel"), "44249"), "'44249' is not a LOINC code"),
        ("phq9", _set(("items", 8, "loinc"), "44260"), "item 9 has '44260', which is not a LOINC code"),
        ("phq9", _set(("followup", "options"), [{"label": "Yes"}]), "follow-up question needs at least two"),
        ("phq9", _set(("name",), ""), "phq9.json: name is empty"),
        ("phq9", _set(("colour",), "blue"), "phq9.json: colour: Extra inputs are not permitted"),
        ("who5", _del(("codes",)), "who5.json: codes: Field required"),
    ],
)
def test_invalid_definitions_are_rejected_with_a_message_naming_the_problem(code, change, message):
    data = definition(code)
    change(data)
    with pytest.raises(InstrumentError, match=re.escape(message)) as raised:
        parse(json.dumps(data, ensure_ascii=False), source=f"{code}.json")
    assert "\n" not in str(raised.value)


def test_malformed_json_is_reported_with_line_and_column():
    text = '{\n  "code": "phq9",\n  "name": "PHQ-9"\n  "version": "1"\n}'
    with pytest.raises(InstrumentError, match=r"^broken.json: not valid JSON: .* at line 4 column 3$"):
        parse(text, source="broken.json")


def test_an_unchanged_definition_parses_to_the_built_in_one():
    assert parse(json.dumps(definition("who5"))) == WHO5


def test_instrument_error_is_a_value_error():
    assert issubclass(InstrumentError, ValueError)
