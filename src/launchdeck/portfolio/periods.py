"""Months and ISO weeks: the periods spend and staffing are counted in. Pure Python, no Django."""

import datetime
from collections.abc import Iterator

LAST_DAY = datetime.date.max


def month_start(day: datetime.date) -> datetime.date:
    """The first day of `day`'s month: the way a month is stored."""
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    """The last day of `day`'s month."""
    if day.year == LAST_DAY.year and day.month == 12:
        return LAST_DAY
    following = datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    """The first day of the month `count` months after `month` (before it if negative)."""
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The first day of every month from `first`'s month to `last`'s month, both included."""
    months, month = [], month_start(first)
    last = month_start(last)
    while month <= last:
        months.append(month)
        if month.year == LAST_DAY.year and month.month == 12:
            break
        month = add_months(month, 1)
    return months


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s ISO week (1 January of year 1 is a Monday, so this never underflows)."""
    return day - datetime.timedelta(days=day.weekday())


def days_after(day: datetime.date, days: int) -> datetime.date:
    """`day` plus `days` (0 or more), stopping at the last representable day rather than overflowing."""
    return LAST_DAY if LAST_DAY.toordinal() - day.toordinal() < days else day + datetime.timedelta(days=days)


def iso_weeks(first: datetime.date, last: datetime.date) -> Iterator[tuple[datetime.date, datetime.date]]:
    """(Monday, Sunday) of every ISO week touching `first` to `last`, in order."""
    monday = week_start(first)
    while monday <= last:
        sunday = days_after(monday, 6)
        yield monday, sunday
        if sunday == LAST_DAY:
            return
        monday = sunday + datetime.timedelta(days=1)


def week_label(monday: datetime.date) -> str:
    """An ISO week as people write it: 2026-W48."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def month_label(month: datetime.date) -> str:
    return month.strftime("%Y-%m")
