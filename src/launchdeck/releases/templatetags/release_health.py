"""Template wording of the health rule, read from the rule itself so pages never restate its numbers."""

from django import template

from launchdeck.releases.health import AMBER_FROM, RED_FROM

register = template.Library()


@register.simple_tag
def health_scale() -> str:
    """ "green below 25, amber from 25, red from 50" for the thresholds in force."""
    return f"green below {AMBER_FROM}, amber from {AMBER_FROM}, red from {RED_FROM}"
