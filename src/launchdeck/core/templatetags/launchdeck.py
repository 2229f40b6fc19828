"""Template filters used across Launchdeck's pages."""

import datetime
import json

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Data as indented JSON, as people expect to read stored values."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def ago(value: datetime.datetime | None) -> str:
    """'just now' for the last minute, otherwise '3 hours ago'."""
    if value is None:
        return ""
    if timezone.now() - value < datetime.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def duration_words(value: datetime.timedelta | None) -> str:
    """A time span in words ('15 minutes'), for messages."""
    if not value:
        return ""
    return timesince(timezone.now() - value, timezone.now())


@register.filter
def split_pairs(value: str) -> list[tuple[str, str]]:
    """`"a:A,b:B"` as [("a", "A"), ("b", "B")], for small fixed menus written in a template."""
    return [tuple(item.split(":", 1)) for item in value.split(",")]
