"""Template wording of schedule figures: shifts and slips in working days, signed as people read them."""

from django import template

register = template.Library()


@register.filter
def working_days(days) -> str:
    """Signed working days: "+5 working days", "0 working days", minus sign for earlier; None stays empty."""
    if days is None or days == "":
        return ""
    days = round(days) if isinstance(days, float) and days.is_integer() else days
    unit = "working day" if abs(days) == 1 else "working days"
    if days > 0:
        return f"+{days} {unit}"
    if days < 0:
        return f"\N{MINUS SIGN}{-days} {unit}"
    return f"0 {unit}"
