"""Formatting for the portfolio pages: money and person-days as people read them."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


def _number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, places: int = 0) -> str:
    """1234567.8 → "1,234,568" (or with `places` decimals); an empty value is a dash."""
    number = _number(value)
    return "—" if number is None else f"{number:,.{int(places)}f}"


@register.filter
def signed_money(value) -> str:
    """A variance: "+12,000" over, "-3,500" under, "0" on plan, a dash when not booked."""
    number = _number(value)
    if number is None:
        return "—"
    if number > 0:
        return f"+{number:,.0f}"
    if number < 0:
        return f"-{-number:,.0f}"
    return "0"


@register.filter
def days(value) -> str:
    """Person-days with one decimal."""
    number = _number(value)
    return "—" if number is None else f"{number:,.1f}"


@register.filter
def percent(value) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:,.0f}%"
