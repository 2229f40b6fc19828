"""A slow, independent reference for the property tests: walk the calendar day by day."""

from datetime import date, timedelta

from launchdeck.scheduling.calendar import WorkingCalendar

ONE_DAY = timedelta(days=1)


def ref_next(calendar: WorkingCalendar, day: date) -> date:
    while not calendar.is_working_day(day):
        day += ONE_DAY
    return day


def ref_previous(calendar: WorkingCalendar, day: date) -> date:
    while not calendar.is_working_day(day):
        day -= ONE_DAY
    return day


def ref_step(calendar: WorkingCalendar, working_day: date, days: int) -> date:
    step = ONE_DAY if days >= 0 else -ONE_DAY
    for _ in range(abs(days)):
        working_day += step
        while not calendar.is_working_day(working_day):
            working_day += step
    return working_day


def ref_end(calendar: WorkingCalendar, start: date, duration: int) -> date:
    return ref_step(calendar, ref_next(calendar, start), duration - 1)
