"""Links to pages by id, for long listings that would otherwise reverse a URL per row."""

from collections.abc import Callable

from django.urls import NoReverseMatch, reverse

_PLACEHOLDER = 2_147_483_647


def url_maker(name: str, fallback: str) -> Callable[[int], str]:
    """`pk -> url` for a URL name, reversed once (reversing per row costs more than the rest of a row)."""
    try:
        pattern = reverse(name, args=[_PLACEHOLDER])
    except NoReverseMatch:
        pattern = fallback.format(pk=_PLACEHOLDER)
    head, _, tail = pattern.partition(str(_PLACEHOLDER))
    return lambda pk: f"{head}{pk}{tail}"
