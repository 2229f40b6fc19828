import dataclasses
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar

ENGLAND = WorkingCalendar(country="GB", subdivision="ENG")
BAVARIA = WorkingCalendar(country="DE", subdivision="BY")
USA = WorkingCalendar(country="US")

# Hypothesis keeps no example database here: the properties are cheap enough to explore afresh on every run.
PROPERTY = settings(max_examples=60, deadline=None, database=None)


def reference_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Slow reference: walk day by day, counting `start` and never `end`."""
    if start <= end:
        return sum(calendar.is_working_day(start + timedelta(days=i)) for i in range((end - start).days))
    return -sum(calendar.is_working_day(end + timedelta(days=i)) for i in range(1, (start - end).days + 1))


def reference_add(calendar: WorkingCalendar, start: date, days: int) -> date:
    """Slow reference: roll onto a working day in the direction of travel, then step one working day at a time."""
    step = timedelta(days=1 if days >= 0 else -1)
    day = start
    while not calendar.is_working_day(day):
        day += step
    for _ in range(abs(days)):
        day += step
        while not calendar.is_working_day(day):
            day += step
    return day


def is_closed_independently(calendar: WorkingCalendar, day: date) -> bool:
    """Whether `day` is off, asked of the holidays package and the closures directly rather than of the calendar."""
    if day.weekday() in calendar.weekend:
        return True
    if calendar.country and day in holidays.country_holidays(calendar.country, subdiv=calendar.subdivision):
        return True
    return any(first <= day <= last for first, last, _ in calendar.closures)


def roll_forward(calendar: WorkingCalendar, day: date) -> date:
    """The first working day on or after `day`, found by walking."""
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


days_2024_to_2028 = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
closures = st.lists(
    st.tuples(days_2024_to_2028, st.integers(min_value=0, max_value=20), st.sampled_from(["Shutdown", "Freeze"])).map(
        lambda closure: (closure[0], closure[0] + timedelta(days=closure[1]), closure[2])
    ),
    max_size=3,
)
calendars = st.builds(
    lambda weekend, region, closures: WorkingCalendar(
        weekend=weekend, country=region[0], subdivision=region[1], closures=closures
    ),
    st.frozensets(st.integers(min_value=0, max_value=6), max_size=6),
    st.sampled_from([(None, None), ("GB", "ENG"), ("DE", "BY"), ("US", None)]),
    closures,
)


# The module stays pure


def test_calendar_module_imports_nothing_from_django_or_the_apps():
    src = Path(__file__).resolve().parents[3]
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    script = (
        "import sys\n"
        "import launchdeck.scheduling.calendar\n"
        "loaded = sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')\n"
        "    or (name.startswith('launchdeck.') and not name.startswith('launchdeck.scheduling')))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# Golden cases with real public holidays


def test_england_christmas_2026_and_the_boxing_day_substitute_are_not_working_days():
    assert ENGLAND.is_working_day(date(2026, 12, 24))
    assert not ENGLAND.is_working_day(date(2026, 12, 25))  # Friday
    assert not ENGLAND.is_working_day(date(2026, 12, 28))  # Monday: Boxing Day falls on Saturday
    assert ENGLAND.is_working_day(date(2026, 12, 29))
    assert ENGLAND.holidays_between(date(2026, 12, 24), date(2026, 12, 31)) == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Boxing Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),
    ]
    assert ENGLAND.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert STANDARD.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 25)


def test_bavaria_has_epiphany_and_corpus_christi_but_germany_as_a_whole_does_not():
    germany = WorkingCalendar(country="DE")
    for day in (date(2026, 1, 6), date(2026, 6, 4)):
        assert not BAVARIA.is_working_day(day)
        assert germany.is_working_day(day)
    assert (date(2026, 1, 6), "Epiphany") in BAVARIA.holidays_between(date(2026, 1, 1), date(2026, 1, 31))


def test_us_independence_day_2026_falls_on_saturday_and_is_observed_on_friday():
    assert USA.holidays_between(date(2026, 7, 1), date(2026, 7, 6)) == [
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 7, 4), "Independence Day"),
    ]
    assert not USA.is_working_day(date(2026, 7, 3))
    assert USA.next_working_day(date(2026, 7, 3)) == date(2026, 7, 6)
    assert USA.previous_working_day(date(2026, 7, 5)) == date(2026, 7, 2)


def test_working_days_in_may_2026():
    # 21 weekdays; England loses the Early May and Spring bank holidays (4 and 25 May).
    assert STANDARD.working_days_in(date(2026, 5, 1), date(2026, 5, 31)) == 21
    assert ENGLAND.working_days_in(date(2026, 5, 1), date(2026, 5, 31)) == 19
    assert ENGLAND.working_days_in(date(2026, 5, 4), date(2026, 5, 4)) == 0
    assert ENGLAND.working_days_in(date(2026, 5, 5), date(2026, 5, 5)) == 1


def test_a_closure_blocks_its_days_and_is_named_alongside_public_holidays():
    shutdown = WorkingCalendar(
        country="GB", subdivision="ENG", closures=[(date(2026, 12, 21), date(2027, 1, 1), "Year-end shutdown")]
    )
    assert shutdown.closures == ((date(2026, 12, 21), date(2027, 1, 1), "Year-end shutdown"),)
    assert ENGLAND.is_working_day(date(2026, 12, 21))
    assert not shutdown.is_working_day(date(2026, 12, 21))
    assert shutdown.next_working_day(date(2026, 12, 21)) == date(2027, 1, 4)
    assert shutdown.working_days_in(date(2026, 12, 14), date(2027, 1, 8)) == 10
    listed = dict(shutdown.holidays_between(date(2026, 12, 24), date(2026, 12, 27)))
    assert listed == {
        date(2026, 12, 24): "Year-end shutdown",
        date(2026, 12, 25): "Christmas Day; Year-end shutdown",
        date(2026, 12, 26): "Boxing Day; Year-end shutdown",
        date(2026, 12, 27): "Year-end shutdown",
    }


def test_a_sunday_to_thursday_week():
    gulf = WorkingCalendar(weekend={4, 5})
    assert not gulf.is_working_day(date(2026, 3, 6))  # Friday
    assert gulf.is_working_day(date(2026, 3, 8))  # Sunday
    assert gulf.working_end(date(2026, 3, 8), 5) == date(2026, 3, 12)  # Sunday to Thursday


# The conventions, on a plain Monday-to-Friday week (9-12 January 2026: Friday, Saturday, Sunday, Monday)


def test_working_days_between_counts_start_but_never_end_in_either_direction():
    friday, saturday, monday = date(2026, 1, 9), date(2026, 1, 10), date(2026, 1, 12)
    assert STANDARD.working_days_between(friday, monday) == 1  # Friday
    assert STANDARD.working_days_between(monday, friday) == -1  # Monday
    assert STANDARD.working_days_between(saturday, friday) == 0
    assert STANDARD.working_days_between(monday, monday) == 0
    assert STANDARD.working_days_between(date(2026, 1, 5), date(2026, 1, 19)) == 10


def test_offset_is_the_signed_shift_counting_the_earlier_day_but_never_the_later():
    thursday, friday, saturday, monday = date(2026, 1, 8), date(2026, 1, 9), date(2026, 1, 10), date(2026, 1, 12)
    assert STANDARD.offset(friday, monday) == 1
    assert STANDARD.offset(monday, friday) == -1
    assert STANDARD.offset(saturday, monday) == 0  # only days off between: no shift
    assert STANDARD.offset(monday, saturday) == 0  # where working_days_between says -1
    assert STANDARD.offset(saturday, thursday) == -2
    assert STANDARD.offset(monday, monday) == 0


def test_adding_from_a_weekend_rolls_in_the_direction_of_travel_first():
    saturday, sunday = date(2026, 1, 10), date(2026, 1, 11)
    assert STANDARD.add_working_days(saturday, 0) == date(2026, 1, 12)  # Monday
    assert STANDARD.add_working_days(saturday, 1) == date(2026, 1, 13)  # Tuesday
    assert STANDARD.add_working_days(sunday, -1) == date(2026, 1, 8)  # rolls to Friday, then Thursday
    assert STANDARD.next_working_day(saturday) == date(2026, 1, 12)
    assert STANDARD.previous_working_day(sunday) == date(2026, 1, 9)
    assert STANDARD.next_working_day(date(2026, 1, 9)) == date(2026, 1, 9)


def test_working_end_is_the_last_day_of_a_task():
    assert STANDARD.working_end(date(2026, 1, 5), 1) == date(2026, 1, 5)
    assert STANDARD.working_end(date(2026, 1, 5), 5) == date(2026, 1, 9)
    assert STANDARD.working_end(date(2026, 1, 10), 1) == date(2026, 1, 12)  # a Saturday start begins on Monday
    assert ENGLAND.working_end(date(2026, 12, 21), 5) == date(2026, 12, 29)


def test_a_calendar_is_an_immutable_value():
    assert WorkingCalendar(weekend=[6, 5]) == STANDARD
    assert hash(WorkingCalendar(weekend=(5, 6))) == hash(STANDARD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        STANDARD.country = "GB"


# Properties against the day-by-day reference


@PROPERTY
@given(calendar=calendars, start=days_2024_to_2028, end=days_2024_to_2028)
def test_working_days_between_matches_walking_day_by_day(calendar, start, end):
    assert calendar.working_days_between(start, end) == reference_between(calendar, start, end)


@PROPERTY
@given(calendar=calendars, start=days_2024_to_2028, end=days_2024_to_2028)
def test_offset_is_working_days_between_from_the_earlier_day_signed(calendar, start, end):
    offset = calendar.offset(start, end)
    if start <= end:
        assert offset == calendar.working_days_between(start, end)
    else:
        assert offset == -calendar.working_days_between(end, start)
    assert calendar.offset(end, start) == -offset
    if calendar.is_working_day(start):
        assert calendar.add_working_days(start, offset) == calendar.next_working_day(end)


@PROPERTY
@given(calendar=calendars, start=days_2024_to_2028, end=days_2024_to_2028)
def test_working_days_in_matches_walking_day_by_day(calendar, start, end):
    start, end = min(start, end), max(start, end)
    assert calendar.working_days_in(start, end) == reference_between(calendar, start, end + timedelta(days=1))


@PROPERTY
@given(calendar=calendars, day=days_2024_to_2028)
def test_is_working_day_agrees_with_the_holidays_package_and_the_closures(calendar, day):
    assert calendar.is_working_day(day) is not is_closed_independently(calendar, day)


@PROPERTY
@given(calendar=calendars, start=days_2024_to_2028, days=st.integers(min_value=-400, max_value=400))
def test_add_working_days_matches_stepping_and_lands_on_a_working_day(calendar, start, days):
    result = calendar.add_working_days(start, days)
    assert result == reference_add(calendar, start, days)
    assert calendar.is_working_day(result)
    if days >= 0:
        assert calendar.working_days_between(roll_forward(calendar, start), result) == days


@PROPERTY
@given(calendar=calendars, start=days_2024_to_2028, days=st.integers(min_value=0, max_value=400))
def test_adding_then_subtracting_returns_to_a_working_day(calendar, start, days):
    working = calendar.next_working_day(start)
    assert calendar.add_working_days(calendar.add_working_days(working, days), -days) == working
    assert calendar.add_working_days(calendar.add_working_days(working, -days), days) == working


@PROPERTY
@given(calendar=calendars, start=days_2024_to_2028, duration=st.integers(min_value=1, max_value=300))
def test_a_task_of_d_working_days_spans_exactly_d_working_days(calendar, start, duration):
    end = calendar.working_end(start, duration)
    assert calendar.is_working_day(end)
    assert calendar.working_days_in(roll_forward(calendar, start), end) == duration


def test_offsets_of_ten_thousand_working_days_agree_with_the_reference():
    calendar = WorkingCalendar(
        country="GB", subdivision="ENG", closures=[(date(2030, 12, 23), date(2031, 1, 3), "Year-end shutdown")]
    )
    start = date(2026, 1, 5)
    later = calendar.add_working_days(start, 10_000)
    earlier = calendar.add_working_days(start, -10_000)
    assert later == reference_add(calendar, start, 10_000)
    assert earlier == reference_add(calendar, start, -10_000)
    assert calendar.working_days_between(start, later) == 10_000
    assert calendar.working_days_between(start, earlier) == -10_000


def test_a_closure_longer_than_the_first_guess_is_stepped_over():
    # Twelve years closed: the first window of holidays is too short and has to widen.
    closed = WorkingCalendar(closures=[(date(2026, 1, 1), date(2037, 12, 31), "Mothballed")])
    assert closed.next_working_day(date(2026, 6, 1)) == date(2038, 1, 1)
    assert closed.add_working_days(date(2038, 1, 1), -1) == date(2025, 12, 31)


# Bad input


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"country": "XX"}, "Unknown country code 'XX'"),
        ({"country": "gb"}, "did you mean 'GB'"),
        ({"country": "GBR"}, "Unknown country code 'GBR'"),
        ({"country": "GB", "subdivision": "ZZ"}, "Unknown subdivision 'ZZ' for country 'GB'; known subdivisions: ENG"),
        ({"subdivision": "ENG"}, "without a country"),
        ({"weekend": range(7)}, "all seven days"),
        ({"weekend": {5, 7}}, "from 0 (Monday) to 6 (Sunday); got [7]"),
        ({"closures": [(date(2026, 1, 9), date(2026, 1, 5), "Backwards")]}, "'Backwards' ends (2026-01-05) before"),
        ({"closures": [(date(2026, 1, 5), date(2026, 1, 9))]}, "(start_date, end_date, name) triple"),
    ],
)
def test_a_bad_calendar_is_refused_with_a_clear_message(fields, message):
    with pytest.raises(ValueError) as refused:
        WorkingCalendar(**fields)
    assert message in str(refused.value)


def test_an_inclusive_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match=r"ends \(2026-01-05\) before it starts \(2026-01-09\)"):
        STANDARD.working_days_in(date(2026, 1, 9), date(2026, 1, 5))
    with pytest.raises(ValueError, match="before it starts"):
        STANDARD.holidays_between(date(2026, 1, 9), date(2026, 1, 5))


def test_a_task_of_no_working_days_is_refused():
    with pytest.raises(ValueError, match="at least one working day; got duration=0"):
        STANDARD.working_end(date(2026, 1, 5), 0)


def test_a_datetime_is_not_a_calendar_day():
    with pytest.raises(TypeError, match="not a datetime"):
        STANDARD.is_working_day(datetime(2026, 1, 5, 9, 0))
    with pytest.raises(TypeError):
        STANDARD.add_working_days(date(2026, 1, 5), 1.5)


def test_running_past_the_last_representable_year_is_refused():
    closed = WorkingCalendar(closures=[(date(2026, 1, 1), date.max, "Forever")])
    with pytest.raises(ValueError, match="No date 0 working days after 2026-06-01"):
        closed.next_working_day(date(2026, 6, 1))


def test_working_days_between_many_counts_each_pair_on_the_calendars_holidays():
    england = WorkingCalendar(country="GB", subdivision="ENG")
    starts = [date(2026, 12, 24), date(2026, 12, 28), date(2026, 6, 1), date(2027, 1, 4)]
    ends = [date(2027, 1, 4), date(2026, 12, 28), date(2026, 6, 8), date(2026, 12, 24)]
    counted = england.working_days_between_many(starts, ends)
    # 24 Dec to 4 Jan: Christmas, Boxing Day (observed on Monday 28th) and New Year's Day are not working days.
    assert counted.tolist() == [
        england.working_days_between(start, end) for start, end in zip(starts, ends, strict=True)
    ]
    assert counted.tolist()[:3] == [4, 0, 5]  # 24, 29, 30 and 31 Dec; none; Monday to Friday
    assert england.working_days_between_many([], []).tolist() == []


def test_working_days_between_many_refuses_unequal_lengths():
    with pytest.raises(ValueError, match="equally long"):
        STANDARD.working_days_between_many([date(2026, 1, 1)], [])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
            st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_working_days_between_many_agrees_with_one_pair_at_a_time(pairs):
    calendar = WorkingCalendar(country="DE", subdivision="BY")
    starts, ends = zip(*pairs, strict=True)
    assert calendar.working_days_between_many(starts, ends).tolist() == [
        calendar.working_days_between(start, end) for start, end in pairs
    ]
