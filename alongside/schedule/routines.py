"""The member's daily routine: items, check-offs, streaks and habit strength.

A routine item is something the member does to stay well: a line of their plan's daily maintenance, or one of
their own. It is expected every day, on chosen days of the week, or a number of times a week. The member ticks
it off on the day (or up to a week later); days are the member's local dates, in their own time zone.

Two numbers describe how it is going (docs/routines.md explains them with a worked example):

- The **streak** counts, back from today, the due days in a row on which it was done (for N-times-a-week items:
  the weeks in a row, Monday to Sunday, with at least N check-offs). Today, and the current week, count once
  they are done; until then they do not break the streak, because there is still time.
- The **habit strength** is an exponentially weighted average of how often it was done:

      s <- s + alpha * (x - s),   alpha = 0.1,   s starting at 0,

  taken over every due day of the item's life in order, with x = 1 for a day done and 0 for a day missed (for
  N-times-a-week items, over every week, with x = min(1, check-offs ÷ N)). Today (the current week) counts
  once done (reached), like the streak. A missed day multiplies the strength by 0.9 rather than starting it
  again from nothing, so one hard day costs a tenth, not everything built so far.

Every write is one of the functions below; views and any other caller use them and never save models directly.
After each change to an item its reminders are recomputed (schedule/reminders.py: refresh_routine).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alongside.care import plan
from alongside.schedule import reminders
from alongside.schedule.models import RoutineCheck, RoutineItem, RoutineSchedule

MAX_TITLE = 120
MAX_ACTIVE_ITEMS = 30
# A check-off may be added or taken back for today and up to this many days before.
MAX_DAYS_BACK = 7
# The weight of the newest day (or week) in the habit strength.
ALPHA = 0.1
GRID_WEEKS = 4

ONE_DAY = timedelta(days=1)
ONE_WEEK = timedelta(days=7)


# Days --------------------------------------------------------------------------------------------------------


def local_today(member, now: datetime | None = None) -> date:
    """The member's date now, in their own time zone."""
    return (now or timezone.now()).astimezone(ZoneInfo(member.time_zone)).date()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_due_on(item: RoutineItem, day: date) -> bool:
    """Whether the item is expected on this day (N-times-a-week items may be done any day)."""
    if item.schedule == RoutineSchedule.WEEKDAYS:
        return day.weekday() in (item.weekdays or [])
    return True


def life_start(item: RoutineItem, done: set[date] | frozenset[date] = frozenset()) -> date:
    """The first day of the item's life: the member's date when it was added, or the earliest day ticked off if
    that is earlier (a new item may be ticked for the days just before it was added)."""
    start = local_today(item.member, item.created_at)
    return min([start, *done])


# Validation ------------------------------------------------------------------------------------------------


def _clean_title(title, errors: dict) -> str:
    text = " ".join(str(title if title is not None else "").split())
    if "\x00" in text:
        errors["title"] = _("This text contains a character that cannot be stored.")
    elif not text:
        errors["title"] = _("Say what you will do.")
    elif len(text) > MAX_TITLE:
        errors["title"] = _("Keep this to %(limit)s characters or fewer (it has %(n)s).") % {
            "limit": MAX_TITLE,
            "n": len(text),
        }
    return text


def _clean_weekdays(weekdays, errors: dict) -> list[int]:
    days = set()
    for value in weekdays or ():
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            day = int(value)
        except (TypeError, ValueError):
            day = -1
        if not 0 <= day <= 6:
            errors["weekdays"] = _("Choose days of the week from Monday to Sunday.")
            return []
        days.add(day)
    if not days:
        errors["weekdays"] = _("Choose at least one day of the week.")
    return sorted(days)


def _clean_times_per_week(value, errors: dict) -> int | None:
    try:
        if isinstance(value, bool) or value is None or value == "":
            raise ValueError(value)
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 7:
        errors["times_per_week"] = _("Give a number of times a week from 1 to 7.")
        return None
    return number


def clean_item(*, title, schedule, weekdays=(), times_per_week=None, remind_at=None) -> dict:
    """The fields of a routine item from untrusted input, or ValidationError naming each wrong field.

    Days of the week matter only for the "chosen days" schedule and the number of times only for "a number of
    times a week"; for the other schedules they are dropped."""
    errors: dict[str, str] = {}
    values: dict = {"title": _clean_title(title, errors), "weekdays": [], "times_per_week": None}
    if schedule not in RoutineSchedule.values:
        errors["schedule"] = _("Choose how often: every day, on chosen days, or a number of times a week.")
    values["schedule"] = schedule
    if schedule == RoutineSchedule.WEEKDAYS:
        values["weekdays"] = _clean_weekdays(weekdays, errors)
    elif schedule == RoutineSchedule.TIMES_PER_WEEK:
        values["times_per_week"] = _clean_times_per_week(times_per_week, errors)
    values["remind_at"] = None
    if isinstance(remind_at, time):
        values["remind_at"] = remind_at.replace(second=0, microsecond=0, tzinfo=None)
    elif remind_at is not None:
        errors["remind_at"] = _("Give the reminder time as hours and minutes, e.g. 08:30.")
    if errors:
        raise ValidationError(errors)
    return values


def _own(member, item: RoutineItem) -> None:
    if item.member_id != member.pk:
        raise PermissionDenied


def _lock(member) -> None:
    """Serialise a member's routine changes, so that two at once cannot pass the item limit or add the plan's
    lines twice."""
    get_user_model().objects.select_for_update().only("pk").get(pk=member.pk)


def active_items(member):
    return RoutineItem.objects.filter(member=member, archived_at__isnull=True)


def _refresh_reminders(item: RoutineItem, now: datetime | None) -> None:
    reminders.refresh_routine(item, now=now)


# Items -----------------------------------------------------------------------------------------------------


def _too_many() -> ValidationError:
    message = _("A routine holds at most %(n)s items. Archive one to add another.") % {"n": MAX_ACTIVE_ITEMS}
    return ValidationError({NON_FIELD_ERRORS: message})


def add_item(
    member,
    *,
    title,
    schedule=RoutineSchedule.DAILY,
    weekdays=(),
    times_per_week=None,
    remind_at=None,
    from_plan: bool = False,
    now: datetime | None = None,
) -> RoutineItem:
    """Add an item to the member's routine. Raises ValidationError naming the wrong fields, or (on the form as a
    whole) when the member already has MAX_ACTIVE_ITEMS items."""
    values = clean_item(
        title=title, schedule=schedule, weekdays=weekdays, times_per_week=times_per_week, remind_at=remind_at
    )
    now = now or timezone.now()
    with transaction.atomic():
        _lock(member)
        if active_items(member).count() >= MAX_ACTIVE_ITEMS:
            raise _too_many()
        item = RoutineItem.objects.create(member=member, from_plan=bool(from_plan), created_at=now, **values)
        _refresh_reminders(item, now)
    return item


def update_item(
    member,
    item: RoutineItem,
    *,
    title,
    schedule,
    weekdays=(),
    times_per_week=None,
    remind_at=None,
    now: datetime | None = None,
) -> RoutineItem:
    """Change one of the member's own items (its history of check-offs stays). PermissionDenied for anyone
    else's item; ValidationError for bad input or an archived item."""
    _own(member, item)
    values = clean_item(
        title=title, schedule=schedule, weekdays=weekdays, times_per_week=times_per_week, remind_at=remind_at
    )
    with transaction.atomic():
        stored = RoutineItem.objects.select_for_update().get(pk=item.pk)
        if stored.archived_at is not None:
            raise ValidationError({NON_FIELD_ERRORS: _("This item is archived, so it cannot be changed.")})
        for field, value in values.items():
            setattr(stored, field, value)
            setattr(item, field, value)
        stored.save(update_fields=[*values])
        _refresh_reminders(stored, now)
    return item


def archive_item(member, item: RoutineItem, *, now: datetime | None = None) -> RoutineItem:
    """Take an item out of the routine. Its check-offs are kept; its unsent reminders are removed. Archiving
    an archived item changes nothing."""
    _own(member, item)
    now = now or timezone.now()
    with transaction.atomic():
        stored = RoutineItem.objects.select_for_update().get(pk=item.pk)
        if stored.archived_at is None:
            stored.archived_at = now
            stored.save(update_fields=["archived_at"])
        item.archived_at = stored.archived_at
        _refresh_reminders(stored, now)
    return item


def _title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def _plan_title(line: str) -> str:
    """A plan line as an item title: one line, at most MAX_TITLE characters."""
    text = " ".join(str(line).split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


def plan_lines_to_add(member) -> list[str]:
    """The titles from the plan's daily maintenance that are not already active items (case-insensitively), in
    the plan's order, without repeats."""
    lines = plan.content_of(plan.current_version(member)).get("daily_maintenance") or []
    taken = {_title_key(title) for title in active_items(member).values_list("title", flat=True)}
    titles = []
    for line in lines:
        title = _plan_title(line)
        key = _title_key(title)
        if key and key not in taken:
            taken.add(key)
            titles.append(title)
    return titles


def add_from_plan(member, *, now: datetime | None = None) -> list[RoutineItem]:
    """Add each line of the plan's daily maintenance that is not already an active item as a daily item, and
    return the items added. Running it again adds nothing new. Lines beyond the item limit are left out (the
    caller can tell from `plan_lines_to_add`)."""
    now = now or timezone.now()
    created = []
    with transaction.atomic():
        _lock(member)
        room = MAX_ACTIVE_ITEMS - active_items(member).count()
        for title in plan_lines_to_add(member)[: max(room, 0)]:
            item = RoutineItem.objects.create(
                member=member, title=title, from_plan=True, schedule=RoutineSchedule.DAILY, created_at=now
            )
            _refresh_reminders(item, now)
            created.append(item)
    return created


# Check-offs ------------------------------------------------------------------------------------------------


def _checkable(member, item: RoutineItem, day: date, now: datetime | None) -> None:
    _own(member, item)
    if not RoutineItem.objects.filter(pk=item.pk, archived_at__isnull=True).exists():
        raise ValidationError({NON_FIELD_ERRORS: _("This item is archived.")})
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError({"day": _("Give the day as a date, e.g. 2026-05-04.")})
    today = local_today(member, now)
    if day > today:
        raise ValidationError({"day": _("That day has not come yet.")})
    if day < today - timedelta(days=MAX_DAYS_BACK):
        raise ValidationError({"day": _("You can tick off today and the %(n)s days before it.") % {"n": MAX_DAYS_BACK}})


def check(member, item: RoutineItem, day: date, *, now: datetime | None = None) -> RoutineCheck:
    """The member did the item on `day` (their local date: today or up to MAX_DAYS_BACK days before). Ticking
    a day twice keeps the first tick. PermissionDenied for anyone else's item; ValidationError for a day in the
    future, too long ago, or an archived item."""
    _checkable(member, item, day, now)
    try:
        with transaction.atomic():
            made, _created = RoutineCheck.objects.get_or_create(
                item=item, local_date=day, defaults={"checked_at": now or timezone.now()}
            )
    except IntegrityError:  # ticked at the same moment elsewhere
        made = RoutineCheck.objects.get(item=item, local_date=day)
    return made


def uncheck(member, item: RoutineItem, day: date, *, now: datetime | None = None) -> bool:
    """Take back the tick of `day` (same rules as `check`). Whether there was one."""
    _checkable(member, item, day, now)
    deleted, _by_model = RoutineCheck.objects.filter(item=item, local_date=day).delete()
    return bool(deleted)


def done_days(item: RoutineItem) -> set[date]:
    return set(item.checks.values_list("local_date", flat=True))


# Streaks and habit strength ----------------------------------------------------------------------------------


def _counts_by_week(done: set[date], today: date) -> Counter:
    return Counter(monday_of(day) for day in done if day <= today)


def _streak(item: RoutineItem, done: set[date], today: date, start: date) -> int:
    if item.schedule == RoutineSchedule.TIMES_PER_WEEK:
        target = item.times_per_week or 1
        counts = _counts_by_week(done, today)
        week = monday_of(today)
        if counts[week] < target:  # this week is still open
            week -= ONE_WEEK
        streak = 0
        while week >= monday_of(start) and counts[week] >= target:
            streak += 1
            week -= ONE_WEEK
        return streak
    day = today
    if is_due_on(item, today) and today not in done:  # today is still open
        day -= ONE_DAY
    streak = 0
    while day >= start:
        if is_due_on(item, day):
            if day not in done:
                break
            streak += 1
        day -= ONE_DAY
    return streak


def _strength(item: RoutineItem, done: set[date], today: date, start: date) -> float:
    strength = 0.0
    if item.schedule == RoutineSchedule.TIMES_PER_WEEK:
        target = item.times_per_week or 1
        counts = _counts_by_week(done, today)
        week, current = monday_of(start), monday_of(today)
        while week <= current:
            if week < current or counts[week] >= target:
                strength += ALPHA * (min(1.0, counts[week] / target) - strength)
            week += ONE_WEEK
        return strength
    day = start
    while day <= today:
        if is_due_on(item, day) and (day < today or day in done):
            strength += ALPHA * ((1.0 if day in done else 0.0) - strength)
        day += ONE_DAY
    return strength


def streak(item: RoutineItem, today: date) -> int:
    """Due days in a row done, back from `today` (for N-times-a-week items: ISO weeks in a row with at least N
    check-offs). Today (this week) counts once done (reached) and does not break the streak before then."""
    done = done_days(item)
    return _streak(item, done, today, life_start(item, done))


def habit_strength(item: RoutineItem, today: date) -> float:
    """How established the habit is, from 0 to 1: s <- s + ALPHA * (x - s) over the item's due days in order from
    its first day, s starting at 0, x = 1 for a day done and 0 for a day missed; for N-times-a-week items over
    its weeks (Monday to Sunday), x = min(1, check-offs ÷ N). Today (the current week) counts once done
    (reached). A missed day multiplies the strength by 1 - ALPHA = 0.9 instead of resetting it."""
    done = done_days(item)
    return _strength(item, done, today, life_start(item, done))


# The routine page ------------------------------------------------------------------------------------------


# Habit strength in words: the first band whose upper limit the strength is below.
STRENGTH_WORDS = (
    (0.15, gettext_lazy("just starting")),
    (0.4, gettext_lazy("taking root")),
    (0.7, gettext_lazy("growing")),
    (0.9, gettext_lazy("strong")),
    (2.0, gettext_lazy("very strong")),
)


def describe_schedule(item: RoutineItem) -> str:
    """How often, in words: "Every day", "Monday, Wednesday and Friday", "3 times a week"."""
    if item.schedule == RoutineSchedule.WEEKDAYS:
        names = [str(WEEKDAYS[day]) for day in sorted(item.weekdays or [])]
        if len(names) == 7:
            return _("Every day")
        if len(names) > 1:
            return _("%(days)s and %(last)s") % {"days": ", ".join(names[:-1]), "last": names[-1]}
        return names[0] if names else ""
    if item.schedule == RoutineSchedule.TIMES_PER_WEEK:
        n = item.times_per_week or 1
        return ngettext("%(n)s time a week", "%(n)s times a week", n) % {"n": n}
    return _("Every day")


# The states of a day in the grid of recent weeks.
DONE = "done"
MISSED = "missed"  # a due day not done (N-times-a-week items: a day not done)
OPEN = "open"  # today, not done yet
NOT_DUE = "not_due"  # not one of the item's chosen days
BEFORE = "before"  # before the item was added
LATER = "later"  # after today


@dataclass(frozen=True)
class GridDay:
    day: date
    state: str


@dataclass(frozen=True)
class GridWeek:
    monday: date
    days: list[GridDay]
    count: int  # check-offs in the week


@dataclass(frozen=True)
class ItemStatus:
    item: RoutineItem
    today: date
    due: bool  # expected today
    done: bool  # ticked off today
    streak: int
    strength: float
    week_count: int  # check-offs this week (Monday to Sunday)
    weeks: list[GridWeek]  # the last GRID_WEEKS weeks, oldest first

    @property
    def strength_percent(self) -> int:
        return round(self.strength * 100)

    @property
    def weekly(self) -> bool:
        return self.item.schedule == RoutineSchedule.TIMES_PER_WEEK

    @property
    def week_target_reached(self) -> bool:
        return self.weekly and self.week_count >= (self.item.times_per_week or 1)

    @property
    def streak_words(self) -> str:
        n = self.streak
        if not n and self.weekly:
            return ngettext(
                "No streak right now: doing it %(n)s time this week starts one.",
                "No streak right now: doing it %(n)s times this week starts one.",
                self.item.times_per_week or 1,
            ) % {"n": self.item.times_per_week or 1}
        if not n:
            return _("No streak right now: the next time you do it starts one.")
        if self.weekly:
            return ngettext("%(n)s week in a row", "%(n)s weeks in a row", n) % {"n": n}
        if self.item.schedule == RoutineSchedule.WEEKDAYS:
            return ngettext("%(n)s planned day in a row", "%(n)s planned days in a row", n) % {"n": n}
        return ngettext("%(n)s day in a row", "%(n)s days in a row", n) % {"n": n}

    @property
    def strength_words(self) -> str:
        for limit, words in STRENGTH_WORDS:
            if self.strength < limit:
                return str(words)
        return str(STRENGTH_WORDS[-1][1])

    @property
    def schedule_words(self) -> str:
        return describe_schedule(self.item)


def _day_state(item: RoutineItem, day: date, done: set[date], today: date, start: date) -> str:
    if day > today:
        return LATER
    if day in done:
        return DONE
    if day < start:
        return BEFORE
    if not is_due_on(item, day):
        return NOT_DUE
    return OPEN if day == today else MISSED


def recent_weeks(
    item: RoutineItem, done: set[date], today: date, start: date, weeks: int = GRID_WEEKS
) -> list[GridWeek]:
    """The last `weeks` weeks (Monday to Sunday, this week last) day by day."""
    first = monday_of(today) - ONE_WEEK * (weeks - 1)
    grid = []
    for number in range(weeks):
        monday = first + ONE_WEEK * number
        days = [monday + timedelta(days=offset) for offset in range(7)]
        grid.append(
            GridWeek(
                monday=monday,
                days=[GridDay(day, _day_state(item, day, done, today, start)) for day in days],
                count=sum(1 for day in days if day in done and day <= today),
            )
        )
    return grid


def status_of(item: RoutineItem, today: date, done: set[date] | None = None) -> ItemStatus:
    """Everything the routine page shows about one item on `today` (the member's date)."""
    done = done_days(item) if done is None else done
    start = life_start(item, done)
    monday = monday_of(today)
    return ItemStatus(
        item=item,
        today=today,
        due=is_due_on(item, today),
        done=today in done,
        streak=_streak(item, done, today, start),
        strength=_strength(item, done, today, start),
        week_count=sum(1 for day in done if monday <= day <= today),
        weeks=recent_weeks(item, done, today, start),
    )


def statuses(member, today: date) -> list[ItemStatus]:
    """The member's active items, each with its status on `today`, in the order they were added."""
    items = list(active_items(member).select_related("member"))
    done: dict[int, set[date]] = {item.pk: set() for item in items}
    for item_id, day in RoutineCheck.objects.filter(item__in=items).values_list("item_id", "local_date"):
        done[item_id].add(day)
    return [status_of(item, today, done[item.pk]) for item in items]


def today_for(member, today: date) -> list[ItemStatus]:
    """The items due on `today` (the member's date), each with whether it is done, its streak and strength."""
    return [status for status in statuses(member, today) if status.due]
