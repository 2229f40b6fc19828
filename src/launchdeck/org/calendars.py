"""Working calendars of the organisation, as the scheduling package's plain `WorkingCalendar` values.

Every working-day question in Launchdeck goes through here: which calendar applies to a team (its own, else its
department's, else the standard weekends-only one) and what that calendar says.
"""

from launchdeck.core.errors import ValidationFailed
from launchdeck.org.models import Calendar, Team
from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar


def working_calendar(calendar: Calendar | None) -> WorkingCalendar:
    """The plain calendar for a stored one (closures included); weekends only when there is none."""
    if calendar is None:
        return STANDARD
    return WorkingCalendar(
        weekend=frozenset(calendar.weekend),
        country=calendar.country or None,
        subdivision=calendar.subdivision or None,
        closures=tuple((closure.start, closure.end, closure.name) for closure in calendar.closures.all()),
    )


def team_calendar(team: Team) -> WorkingCalendar:
    """The calendar a team works to: its own, else its department's, else weekends only."""
    return working_calendar(team.calendar or team.department.calendar)


def check_calendar_rules(calendar: Calendar) -> None:
    """Weekend days are weekdays 0 to 6 and not all of them; country and region must be known."""
    weekend = calendar.weekend
    if not isinstance(weekend, list) or not all(_is_weekday(day) for day in weekend):
        raise ValidationFailed.field("weekend", "Weekend days are weekday numbers from 0 (Monday) to 6 (Sunday).")
    if len(set(weekend)) == 7:
        raise ValidationFailed.field("weekend", "A calendar needs at least one working weekday.")
    if calendar.subdivision and not calendar.country:
        raise ValidationFailed.field("subdivision", "A region needs a country.")
    try:
        WorkingCalendar(
            weekend=frozenset(weekend), country=calendar.country or None, subdivision=calendar.subdivision or None
        )
    except ValueError as exc:
        field = "subdivision" if calendar.subdivision and "subdiv" in str(exc).lower() else "country"
        raise ValidationFailed.field(field, str(exc)) from None


def _is_weekday(day) -> bool:
    # bool is an int to Python, but True is no weekday number
    return isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6
