"""The one working-day calendar for the product: weekends, public holidays and closures, and the arithmetic on them.

Every count of working days, every "N working days after" and every phase laid out on a plan goes through
`WorkingCalendar` (DESIGN rule 7). The module is pure Python plus numpy and the `holidays` package: it imports
nothing from Django or the apps, which translate their calendar rows into a `WorkingCalendar` value.

Conventions, in one place:

- A working day is a day whose weekday is not in `weekend`, that is not a public holiday of `country` /
  `subdivision`, and that lies in no closure.
- `working_days_between(start, end)` counts `start` and never `end` (numpy's `busday_count`).
- `working_days_in(start, end)` counts both ends.
- `offset(start, end)` is the signed shift from `start` to `end`: working days in [start, end), or minus those in
  [end, start) when `end` is earlier. Every "signed working days from a to b" uses it.
- `add_working_days(start, n)` first rolls a non-working `start` onto a working day (forward for n >= 0, backward
  for n < 0), then steps n working days; `working_end(start, d)` is the last day of a d-working-day task.
"""

import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta

import holidays
import numpy as np

Closure = tuple[date, date, str]
"""A calendar-specific shutdown: first day, last day (inclusive) and a name, e.g. a year-end closure."""

# A low estimate of working days per year per working weekday (52 weeks less a generous allowance for holidays),
# used to guess how many years of holidays an offset needs before the first try.
_WORKING_WEEKS_PER_YEAR = 46


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days: not a weekend day, not a public holiday of the region, not in a closure.

    An immutable, hashable value: two calendars built from the same weekend, region and closures are equal.
    `weekend` holds weekday numbers (Monday = 0 ... Sunday = 6); `country` is an ISO 3166-1 alpha-2 code known to
    the `holidays` package (or None for no public holidays) and `subdivision` one of that country's subdivision
    codes (e.g. "ENG" for GB, "BY" for DE); `closures` are kept sorted.
    """

    weekend: frozenset[int] = frozenset({5, 6})
    country: str | None = None
    subdivision: str | None = None
    closures: tuple[Closure, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekend", _clean_weekend(self.weekend))
        object.__setattr__(self, "closures", _clean_closures(self.closures))
        _check_region(self.country, self.subdivision)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day in this calendar."""
        _check_day(day, "day")
        return day.weekday() not in self.weekend and day not in _closed_days(self, day.year)

    def holidays_between(self, start: date, end: date) -> list[tuple[date, str]]:
        """Public holidays and closure days from `start` to `end` inclusive, with names, sorted by date.

        Days that fall on a weekend are listed too; a day with several reasons carries them joined by "; ",
        public holidays first, then closures.
        """
        _check_range(start, end)
        names: dict[date, list[str]] = {}
        if self.country is not None:
            for year in range(start.year, end.year + 1):
                for day, name in _public_holidays(self.country, self.subdivision, year):
                    if start <= day <= end:
                        names.setdefault(day, []).append(name)
        for first, last, name in self.closures:
            first, last = max(first, start), min(last, end)
            for offset in range((last - first).days + 1):
                names.setdefault(first + timedelta(days=offset), []).append(name)
        return [(day, "; ".join(names[day])) for day in sorted(names)]

    def working_days_between(self, start: date, end: date) -> int:
        """Working days from `start` up to but not including `end`: the half-open range [start, end).

        If `end` is before `start` the result is negative: minus the working days in (end, start]. Either way
        `start` is counted and `end` is not (numpy.busday_count's convention), so the result is 0 when start == end,
        and `working_days_between(start, add_working_days(start, n)) == n` for a working `start`.
        """
        _check_day(start, "start")
        _check_day(end, "end")
        busdaycal = _busdaycalendar(self, min(start, end).year, max(start, end).year)
        return int(np.busday_count(np.datetime64(start), np.datetime64(end), busdaycal=busdaycal))

    def offset(self, start: date, end: date) -> int:
        """The signed shift in working days from `start` to `end`, negative when `end` is before `start`.

        The working days in [start, end), or minus those in [end, start) when end < start: the difference of the two
        days' working-day numbers, a day off numbered as the working day after it. So it is 0 when start == end or
        only days off lie from one to the other, offset(a, b) == -offset(b, a), and add_working_days(start,
        offset(start, end)) == next_working_day(end) for a working `start`. It equals `working_days_between` when
        start <= end (the two differ only for end < start, where that one counts (end, start]).
        """
        if end >= start:
            return self.working_days_between(start, end)
        return -self.working_days_between(end, start)

    def working_days_between_many(self, starts, ends) -> np.ndarray:
        """`working_days_between` for many pairs at once: element i is the working days in [starts[i], ends[i]).

        `starts` and `ends` are equally long sequences of dates (or `datetime64[D]` arrays); the answer is an int64
        array in the same order, counted with one `numpy.busday_count` over the years they span.
        """
        first = np.asarray(starts, dtype="datetime64[D]")
        last = np.asarray(ends, dtype="datetime64[D]")
        if first.ndim != 1 or first.shape != last.shape:
            raise ValueError(f"starts and ends must be flat and equally long; got {first.shape} and {last.shape}.")
        if first.size == 0:
            return np.zeros(0, dtype=np.int64)
        if np.isnat(first).any() or np.isnat(last).any():
            raise ValueError("starts and ends must all be dates; got a missing value.")
        lowest = min(first.min(), last.min()).item()
        highest = max(first.max(), last.max()).item()
        busdaycal = _busdaycalendar(self, lowest.year, highest.year)
        return np.busday_count(first, last, busdaycal=busdaycal).astype(np.int64)

    def working_day_mask(self, start: date, end: date) -> np.ndarray:
        """Whether each day from `start` to `end` inclusive is a working day: a bool array with one element per day.

        For code that does its own arithmetic on many dates at once (the schedule engine turns it into working-day
        indexes); the answer is the same as `is_working_day` day by day.
        """
        _check_range(start, end)
        busdaycal = _busdaycalendar(self, start.year, end.year)
        return np.is_busday(np.arange(np.datetime64(start), np.datetime64(end) + 1), busdaycal=busdaycal)

    def working_days_in(self, start: date, end: date) -> int:
        """Working days from `start` to `end`, both included (start <= end)."""
        _check_range(start, end)
        busdaycal = _busdaycalendar(self, start.year, end.year)
        return int(np.busday_count(np.datetime64(start), np.datetime64(end) + 1, busdaycal=busdaycal))

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (before it if `days` is negative).

        A `start` that is not a working day first rolls to the nearest working day in the direction of travel:
        forward when days >= 0, backward when days < 0. So add_working_days(saturday, 0) is the Monday,
        add_working_days(saturday, 1) the Tuesday and add_working_days(saturday, -1) the Thursday (the roll lands on
        Friday, one step back is Thursday). The result is always a working day.
        """
        _check_day(start, "start")
        days = operator.index(days)
        return self._offset(start, days, "forward" if days >= 0 else "backward")

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        _check_day(day, "day")
        return self._offset(day, 0, "forward")

    def previous_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the last working day before it."""
        _check_day(day, "day")
        return self._offset(day, 0, "backward")

    def working_end(self, start: date, duration: int) -> date:
        """The last working day of a task that starts on `start` (rolled forward) and lasts `duration` working days."""
        _check_day(start, "start")
        duration = operator.index(duration)
        if duration < 1:
            raise ValueError(f"A task lasts at least one working day; got duration={duration}.")
        return self._offset(start, duration - 1, "forward")

    def _offset(self, day: date, days: int, roll: str) -> date:
        """numpy.busday_offset over just enough years of holidays to be exact, widening the window until it is."""
        forward = roll == "forward"
        working_weekdays = 7 - len(self.weekend)
        span = abs(days) // (working_weekdays * _WORKING_WEEKS_PER_YEAR) + 2
        while True:
            first = day.year if forward else max(MINYEAR, day.year - span)
            last = min(MAXYEAR, day.year + span) if forward else day.year
            result = np.busday_offset(np.datetime64(day), days, roll=roll, busdaycal=_busdaycalendar(self, first, last))
            # Inside the window every day stepped over had its holidays loaded, so the answer is exact.
            if np.datetime64(date(first, 1, 1)) <= result <= np.datetime64(date(last, 12, 31)):
                return result.item()
            if (forward and last == MAXYEAR) or (not forward and first == MINYEAR):
                direction = "after" if forward else "before"
                raise ValueError(
                    f"No date {abs(days)} working days {direction} {day.isoformat()} within the supported date range "
                    f"(years {MINYEAR}-{MAXYEAR}); check the calendar's closures."
                )
            span *= 2


@functools.lru_cache(maxsize=4096)
def _public_holidays(country: str, subdivision: str | None, year: int) -> tuple[tuple[date, str], ...]:
    """The public holidays of a region dated in `year`, sorted by date."""
    generated = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return tuple(sorted((day, name) for day, name in generated.items() if day.year == year))


@functools.lru_cache(maxsize=1024)
def _closed_days(calendar: WorkingCalendar, year: int) -> frozenset[date]:
    """Every public holiday and closure day of `calendar` in `year`."""
    return frozenset(day for day, _ in calendar.holidays_between(date(year, 1, 1), date(year, 12, 31)))


@functools.lru_cache(maxsize=256)
def _busdaycalendar(calendar: WorkingCalendar, first_year: int, last_year: int) -> np.busdaycalendar:
    """A numpy business-day calendar holding `calendar`'s weekend and its closed days from first_year to last_year."""
    parts = []
    if calendar.country is not None:
        days = [
            day
            for year in range(first_year, last_year + 1)
            for day, _ in _public_holidays(calendar.country, calendar.subdivision, year)
        ]
        parts.append(np.array(days, dtype="datetime64[D]"))
    window_start, window_end = date(first_year, 1, 1), date(last_year, 12, 31)
    for first, last, _ in calendar.closures:
        first, last = max(first, window_start), min(last, window_end)
        if first <= last:
            parts.append(np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]"))
    closed = np.concatenate(parts) if parts else np.array([], dtype="datetime64[D]")
    weekmask = [weekday not in calendar.weekend for weekday in range(7)]
    return np.busdaycalendar(weekmask=weekmask, holidays=closed)


@functools.cache
def _supported_regions() -> dict[str, frozenset[str]]:
    """Country code -> subdivision codes, for every country the `holidays` package knows (no aliases)."""
    supported = holidays.list_supported_countries(include_aliases=False)
    return {country: frozenset(subdivisions) for country, subdivisions in supported.items()}


def _check_region(country: str | None, subdivision: str | None) -> None:
    """Refuse a country or subdivision code the `holidays` package does not know, naming the bad code."""
    if country is None:
        if subdivision is not None:
            raise ValueError(f"Subdivision {subdivision!r} was given without a country; set country as well.")
        return
    regions = _supported_regions()
    if country not in regions:
        hint = f" Codes are upper case: did you mean {country.upper()!r}?" if str(country).upper() in regions else ""
        raise ValueError(
            f"Unknown country code {country!r} for public holidays: expected an ISO 3166-1 alpha-2 code supported "
            f"by the holidays package, such as 'GB', 'DE' or 'US'.{hint}"
        )
    if subdivision is not None and subdivision not in regions[country]:
        known = ", ".join(sorted(regions[country])) or "none"
        raise ValueError(f"Unknown subdivision {subdivision!r} for country {country!r}; known subdivisions: {known}.")


def _clean_weekend(weekend: Iterable[int]) -> frozenset[int]:
    """The weekend as a frozenset of weekday numbers, refusing bad numbers and a weekend with no working day."""
    days = frozenset(weekend)
    bad = [day for day in days if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6]
    if bad:
        bad = sorted(bad, key=repr)
        raise ValueError(f"Weekend days are weekday numbers from 0 (Monday) to 6 (Sunday); got {bad}.")
    if len(days) == 7:
        raise ValueError("The weekend covers all seven days; a calendar needs at least one working weekday.")
    return days


def _clean_closures(closures: Iterable[Closure]) -> tuple[Closure, ...]:
    """Closures as a sorted tuple of (first day, last day, name), refusing malformed or backwards ranges."""
    cleaned = []
    for closure in closures:
        if not isinstance(closure, tuple | list) or len(closure) != 3:
            raise ValueError(f"A closure is a (start_date, end_date, name) triple; got {closure!r}.")
        first, last, name = closure
        _check_day(first, "closure start")
        _check_day(last, "closure end")
        if not isinstance(name, str):
            raise ValueError(f"A closure's name is a string; got {name!r} for the closure starting {first}.")
        if last < first:
            raise ValueError(f"Closure {name!r} ends ({last}) before it starts ({first}).")
        cleaned.append((first, last, name))
    return tuple(sorted(cleaned))


def _check_day(value: object, label: str) -> None:
    """Refuse anything but a calendar day (a `date`, not a `datetime`)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{label} must be a datetime.date (a calendar day, not a datetime); got {value!r}.")


def _check_range(start: date, end: date) -> None:
    """Refuse an inclusive range whose end comes before its start."""
    _check_day(start, "start")
    _check_day(end, "end")
    if end < start:
        raise ValueError(f"The range ends ({end.isoformat()}) before it starts ({start.isoformat()}).")


STANDARD = WorkingCalendar()
"""Monday to Friday, no public holidays, no closures."""
