import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from alongside.monitoring import charts, instruments

SVG = "{http://www.w3.org/2000/svg}"
MARCH = [date(2026, 3, 1) + timedelta(days=i) for i in range(7)]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def by_id_suffix(root: ET.Element, suffix: str) -> ET.Element:
    [found] = [element for element in root.iter() if element.get("id", "").endswith(f"-{suffix}")]
    return found


def desc(svg: str) -> str:
    return parse(svg).find(f"{SVG}desc").text


def checkin(day: date, **values):
    fields = dict.fromkeys(("mood", "anxiety", "energy", "sleep_hours", "sleep_quality", "cravings"))
    return SimpleNamespace(local_date=day, **{**fields, **values})


def mood_chart(values=(6, None, 3, 8, 3, 7, None), **options):
    options = {"title": "Mood", "y_label": "Mood (0 to 10)", "period": "week", **options}
    return charts.line_chart(MARCH, {"Mood": list(values)}, **options)


def every_chart() -> dict[str, str]:
    return {
        "line": mood_chart(typical={"Mood": (4.0, 7.5)}),
        "several series": charts.line_chart(
            MARCH, {"Mood": [5] * 7, "Anxiety": [3, 4, None, 4, 5, 6, 2]}, title="Mood and anxiety", y_label=""
        ),
        "questionnaire": charts.questionnaire_chart(
            "phq9", [(date(2026, 1, 5), 17), (date(2026, 2, 2), 11), (date(2026, 3, 2), 6)], title="PHQ-9"
        ),
        "heat map": charts.calendar_heatmap({date(2026, 3, 10): 2}, end=date(2026, 3, 11), title="Check-ins"),
        "empty": charts.line_chart(MARCH, {"Mood": [None] * 7}, title="Mood", y_label=""),
    }


# --- Personal range ---------------------------------------------------------------------------------------


def test_personal_range_is_median_plus_or_minus_scaled_mad():
    # Median 4; absolute deviations 3 2 1 0 1 2 3 have median 2; 2 x 1.4826 = 2.9652.
    low, high = charts.personal_range([7, 1, 6, 2, 5, 3, 4])
    assert low == pytest.approx(4 - 2.9652)
    assert high == pytest.approx(4 + 2.9652)


def test_personal_range_shrugs_off_a_single_extreme_day():
    # Median 6, deviations 1 1 0 0 1 1 24: MAD 1, so the outlier does not widen the range.
    assert charts.personal_range([5, 5, 6, 6, 7, 7, 30]) == pytest.approx((6 - 1.4826, 6 + 1.4826))


def test_personal_range_needs_seven_values_and_skips_missing_ones():
    assert charts.personal_range([5, 6, 7, 5, 6, 7]) is None
    assert charts.personal_range([5, 6, 7, 5, 6, 7, None]) is None
    assert charts.personal_range([]) is None
    assert charts.personal_range([5, 6, 7, 5, 6, 7, None, 6]) is not None


# --- Chart input from check-ins ---------------------------------------------------------------------------


def test_daily_means_average_several_check_ins_a_day_and_ignore_unanswered_fields():
    checkins = [
        checkin(MARCH[0], mood=4, anxiety=None),
        checkin(MARCH[0], mood=7, anxiety=6),
        checkin(MARCH[0], mood=6),
        checkin(MARCH[2], mood=2, sleep_hours=Decimal("7.50")),
    ]
    assert charts.daily_means(checkins, "mood") == {MARCH[0]: pytest.approx(17 / 3), MARCH[2]: 2.0}
    assert charts.daily_means(checkins, "anxiety") == {MARCH[0]: 6.0}
    assert charts.daily_means(checkins, "sleep_hours") == {MARCH[2]: 7.5}


def test_series_for_gives_one_value_per_day_with_none_for_days_without_an_answer():
    checkins = [checkin(MARCH[0], mood=4, energy=2), checkin(MARCH[0], mood=6), checkin(MARCH[3], mood=5)]
    series = charts.series_for(checkins, ["mood", "energy"], MARCH[:4])
    assert series == {"Mood": [5.0, None, None, 5.0], "Energy": [2.0, None, None, None]}


def test_typical_ranges_use_one_value_per_day():
    # Ten check-ins of 9 on one day must not outweigh seven ordinary days.
    checkins = [checkin(day, mood=5) for day in MARCH] + [checkin(MARCH[0], mood=9) for _ in range(10)]
    low, high = charts.typical_ranges(checkins, ["mood"])["Mood"]
    assert (low, high) == pytest.approx((5, 5))
    assert charts.typical_ranges(checkins[:6], ["mood"]) == {"Mood": None}


def test_counts_per_day():
    checkins = [checkin(MARCH[0], mood=1), checkin(MARCH[0], mood=2), checkin(MARCH[4], mood=3)]
    assert charts.counts_per_day(checkins) == {MARCH[0]: 2, MARCH[4]: 1}


def test_questionnaire_points_leave_out_corrected_and_unscored_responses():
    def response(pk, day, total, corrects_id=None, instrument="phq9"):
        return SimpleNamespace(id=pk, local_date=day, total=total, corrects_id=corrects_id, instrument=instrument)

    responses = [
        response(1, MARCH[0], 12),
        response(2, MARCH[0], 14, corrects_id=1),
        response(3, MARCH[3], None),
        response(4, MARCH[5], 9),
        response(5, MARCH[5], 3, instrument="gad7"),
    ]
    assert charts.questionnaire_points(responses, "phq9") == [(MARCH[0], 14), (MARCH[5], 9)]


# --- Line chart -------------------------------------------------------------------------------------------


def line_runs(svg: str, name: str) -> list[str]:
    """The line's path data split at each move: one piece per unbroken run of days."""
    path = by_id_suffix(parse(svg), f"series-{name}").find(f"{SVG}path")
    return [piece.strip() for piece in path.get("d").split("M") if piece.strip()]


def test_missing_days_are_gaps_not_interpolated():
    svg = charts.line_chart(MARCH, {"Mood": [5, 6, None, 7, 8, None, 4]}, title="Mood", y_label="", period="week")
    runs = line_runs(svg, "mood")
    # 5-6, then 7-8, then the lone 4: three runs, and only one line segment inside each of the first two.
    assert len(runs) == 3
    assert [run.count("L") for run in runs] == [1, 1, 0]
    # Every day with a value still gets a marker, including the lone one.
    markers = by_id_suffix(parse(svg), "series-mood").findall(f".//{SVG}use")
    assert len(markers) == 5


def test_a_day_missing_from_the_days_list_is_a_gap_too():
    days = [MARCH[0], MARCH[1], MARCH[3], MARCH[4]]
    svg = charts.line_chart(days, {"Mood": [5, 6, 7, 8]}, title="Mood", y_label="")
    assert len(line_runs(svg, "mood")) == 2


def test_description_gives_the_numbers_in_words():
    text = desc(mood_chart(typical={"Mood": (4.04, 7.46)}))
    assert text == (
        "Mood over the 7 days from 1 March to 7 March: recorded on 5 days, average 5.4, "
        "lowest 3 on 5 March, highest 8 on 4 March, usual range 4 to 7.5."
    )


def test_description_says_when_nothing_was_recorded():
    assert desc(mood_chart([None] * 7)).endswith(": nothing recorded.")


def test_usual_range_is_shaded_only_when_given():
    assert "-usual-mood" in mood_chart(typical={"Mood": (4.0, 7.0)})
    assert "-usual-mood" not in mood_chart()
    assert "-usual-mood" not in mood_chart(typical={"Mood": None})


def test_week_view_labels_weekdays_and_month_view_labels_dates():
    week = [text.text for text in parse(mood_chart()).iter(f"{SVG}text")]
    assert "Sun" in week and "Sat" in week  # 1 March 2026 is a Sunday
    days = [date(2026, 2, 10) + timedelta(days=i) for i in range(30)]
    month = charts.line_chart(days, {"Mood": [5] * 30}, title="Mood", y_label="", period="month")
    labels = [text.text for text in parse(month).iter(f"{SVG}text")]
    assert "11 Mar" in labels and "4 Mar" in labels


@pytest.mark.parametrize(
    ("days", "series", "period"),
    [
        (MARCH, {"Mood": [5] * 6}, "week"),
        ([MARCH[1], MARCH[0]], {"Mood": [5, 5]}, "week"),
        (MARCH, {"Mood": [5] * 7}, "year"),
        ([], {}, "week"),
    ],
)
def test_line_chart_refuses_input_it_cannot_draw_honestly(days, series, period):
    with pytest.raises(ValueError):
        charts.line_chart(days, series, title="Mood", y_label="", period=period)


# --- Questionnaire chart ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", instruments.BUILTIN)
def test_questionnaire_chart_labels_every_band(code):
    instrument = instruments.get(code)
    svg = charts.questionnaire_chart(code, [(MARCH[0], instrument.total_max), (MARCH[6], 0)], title=code)
    root = parse(svg)
    for index, band in enumerate(sorted(instrument.bands, key=lambda band: band.min)):
        words = " ".join(text.text for text in by_id_suffix(root, f"band-label-{index}").iter(f"{SVG}text"))
        assert words == band.label
        by_id_suffix(root, f"band-{index}")  # the shaded band itself
        assert f"{band.label} {band.min} to {band.max}" in desc(svg)


def test_questionnaire_bands_darken_towards_the_worse_end():
    def fills(code):
        root = parse(charts.questionnaire_chart(code, [], title=code))
        count = len(instruments.get(code).bands)
        return [by_id_suffix(root, f"band-{i}").find(f"{SVG}path").get("fill") for i in range(count)]

    phq9, who5 = fills("phq9"), fills("who5")  # bands in order of score, lowest first
    assert phq9[0] == charts.BAND_TINTS[0] and phq9[-1] == charts.BAND_TINTS[-1]  # higher PHQ-9 is worse
    assert who5[0] == charts.BAND_TINTS[-1] and who5[-1] == charts.BAND_TINTS[0]  # lower WHO-5 is worse


def test_questionnaire_description():
    points = [(date(2026, 3, 2), 6), (date(2026, 1, 5), 17), (date(2026, 2, 2), 11)]
    text = desc(charts.questionnaire_chart("phq9", points, title="PHQ-9"))
    name = instruments.get("phq9").name
    assert text.startswith(
        f"{name}, 3 scores from 5 January to 2 March: latest 6 (mild) on 2 March, lowest 6, highest 17."
    )
    assert desc(charts.questionnaire_chart("phq9", [], title="PHQ-9")).startswith(f"{name}: no scores yet.")


# --- Heat map ---------------------------------------------------------------------------------------------


def test_heat_map_has_one_cell_per_day_with_its_count():
    end = date(2026, 3, 11)  # a Wednesday
    counts = {date(2026, 3, 10): 2, date(2026, 2, 16): 1, date(2026, 3, 1): 7, date(2026, 1, 1): 9}
    root = parse(charts.calendar_heatmap(counts, end=end, weeks=4, title="Check-ins"))
    cells = {
        element.get("id").partition("-day-")[2]: element for element in root.iter() if "-day-" in element.get("id", "")
    }
    # Three full weeks from Monday 16 February, then Monday to Wednesday of the last.
    assert len(cells) == 3 * 7 + 3
    assert min(cells) == "2026-02-16" and max(cells) == "2026-03-11"

    def title(day):
        return cells[day].find(f"{SVG}title").text

    assert title("2026-03-10") == "Tuesday 10 March 2026: 2 check-ins"
    assert title("2026-02-16") == "Monday 16 February 2026: 1 check-in"
    assert title("2026-03-11") == "Wednesday 11 March 2026: 0 check-ins"
    assert cells["2026-03-01"].find(f"{SVG}path").get("fill") == charts.HEAT_LEVELS[-1]  # 7 shows as "4+"
    assert cells["2026-03-11"].find(f"{SVG}path").get("fill") == charts.HEAT_LEVELS[0]


def test_heat_map_description_counts_only_the_days_shown():
    counts = {date(2026, 3, 10): 2, date(2026, 3, 2): 1, date(2026, 3, 3): 2, date(2025, 1, 1): 9}
    text = desc(charts.calendar_heatmap(counts, end=date(2026, 3, 11), weeks=4, title="Check-ins"))
    assert text == (
        "Check-ins, from 16 February to 11 March: check-ins on 3 of 24 days, 5 in all; most in a day 2, on 10 March."
    )


# --- What every chart must be -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["line", "several series", "questionnaire", "heat map", "empty"])
def test_every_chart_is_accessible_inline_svg_that_needs_no_inline_style(kind):
    svg = every_chart()[kind]
    assert svg.startswith("<svg ")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert "<script" not in svg.lower()
    assert "style=" not in svg and "<style" not in svg
    root = parse(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("height") is None and root.get("viewBox")
    ids = {element.get("id"): element for element in root.iter() if element.get("id")}
    title_id, desc_id = root.get("aria-labelledby").split()
    assert ids[title_id].tag == f"{SVG}title" and ids[title_id].text
    assert ids[desc_id].tag == f"{SVG}desc" and ids[desc_id].text
    # Every internal reference (clip paths, markers) points at an element of this chart.
    for reference in re.findall(r'(?:url\(#|href="#)([^)"]+)', svg):
        assert reference in ids


def test_ids_are_unique_within_and_across_charts():
    seen: set[str] = set()
    for svg in every_chart().values():
        ids = [element.get("id") for element in parse(svg).iter() if element.get("id")]
        assert len(ids) == len(set(ids))
        assert not seen & set(ids)
        seen |= set(ids)


def test_identical_input_gives_identical_output():
    assert every_chart() == every_chart()


def test_a_chart_laid_out_like_an_earlier_one_is_drawn_exactly_as_if_laid_out_afresh(monkeypatch):
    # Another member's data on the same day: the same texts around the axes, so the same layout.
    others = {"values": (2, 9, None, 4, 4, 5, 1), "typical": {"Mood": (3.0, 6.0)}}
    monkeypatch.setattr(charts, "_layouts", type(charts._layouts)())
    afresh = {**every_chart(), "other": mood_chart(**others)}
    assert len(charts._layouts) >= 3  # the line charts and the heat map keep their layout
    kept = dict(charts._layouts)
    monkeypatch.setattr(charts, "_layouts", type(charts._layouts)())
    mood_chart()  # lays out this kind of chart for this day
    assert mood_chart(**others) == afresh["other"]
    monkeypatch.setattr(charts, "_layouts", type(charts._layouts)(kept))
    assert every_chart() == {name: svg for name, svg in afresh.items() if name != "other"}


def test_charts_drawn_at_the_same_time_in_threads_match_those_drawn_one_by_one():
    expected = mood_chart(typical={"Mood": (4.0, 7.5)})

    def draw(_):
        with translation.override("en"):
            return mood_chart(typical={"Mood": (4.0, 7.5)})

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(draw, range(8))) == {expected}
