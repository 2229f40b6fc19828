"""API plumbing shared by every router: the one error format, input guards, pagination with a total, sorting."""

import datetime
import functools
import logging
from typing import Annotated, Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import include, path
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict
from pydantic_core import PydanticSerializationError

from launchdeck.core.errors import DomainError, ValidationFailed

logger = logging.getLogger(__name__)


class StrictIn(Schema):
    """Input schemas refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldErrorOut(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    """Every error the API returns has this shape."""

    detail: str
    errors: list[FieldErrorOut] = []


MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2_147_483_647, description="The version you read; a stale one gets 409.")]

ERROR_RESPONSES = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_RESPONSES = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


NULL_CHARACTER_MESSAGE = "Null characters are not allowed."


def _as_utc(value: datetime.datetime) -> datetime.datetime:
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError("This time is out of range once converted to UTC.") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A datetime input: a time zone is required and the value is converted to UTC, the way it is stored and compared
(PostgreSQL refuses offsets beyond ±15:59, and a date at the edge of the calendar may not survive the conversion)."""


def _null_character_locations(value, location: tuple = ()):
    """The location of every string in validated input `value` that contains a NUL character."""
    if isinstance(value, str):
        if "\x00" in value:
            yield location
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _null_character_locations(getattr(value, name), (*location, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _null_character_locations(key, (*location, key))
            yield from _null_character_locations(item, (*location, key))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from _null_character_locations(item, (*location, index))


def _may_hold_null_characters(value) -> bool:
    """Whether `value` may hold a NUL character. A schema is written out as JSON first, where a NUL can only appear
    escaped: one pass in pydantic's compiled serializer instead of a walk in Python over every value of, say, a bulk
    call's 5,000 rows. (Text that merely contains the escape sequence is walked, and found clean.)"""
    if isinstance(value, BaseModel):
        try:
            return "\\u0000" in value.model_dump_json()
        except PydanticSerializationError:
            return True
    return True


def reject_null_characters(view):
    """Refuse input holding a NUL character with a 422, as Django's form fields do: PostgreSQL cannot store one.

    Applied to every operation after authentication and validation, so it sees the path parameters, the query and
    the body alike; a schema argument's fields are named as the client sent them (query and body fields are flat).
    """

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        fields = [
            ".".join(str(part) for part in location) or None
            for name, value in kwargs.items()
            if _may_hold_null_characters(value)
            for location in _null_character_locations(value, () if isinstance(value, BaseModel) else (name,))
        ]
        if fields:
            raise ValidationFailed(NULL_CHARACTER_MESSAGE, errors=[(field, NULL_CHARACTER_MESSAGE) for field in fields])
        return view(request, *args, **kwargs)

    return guarded


def error_response(api: NinjaAPI, request: HttpRequest, status: int, detail: str, errors=()):
    return api.create_response(request, {"detail": detail, "errors": list(errors)}, status=status)


def _location(loc) -> str | None:
    """A field name from a pydantic error location, without Ninja's `body`/`query`/`payload` prefixes."""
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header", "cookie", "form", "payload")]
    return ".".join(parts) or None


def install_error_handlers(api: NinjaAPI) -> None:
    """Map every error to `{"detail": ..., "errors": [{"field": ..., "message": ...}]}` with the right status."""

    @api.exception_handler(DomainError)
    def on_domain_error(request, exc: DomainError):
        return error_response(api, request, exc.status, exc.detail, exc.errors)

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request, exc: NinjaValidationError):
        errors = [
            {"field": _location(error.get("loc", ())), "message": error.get("msg", "Invalid value.")}
            for error in exc.errors
        ]
        return error_response(api, request, 422, "Some values are not valid.", errors)

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request, exc):
        return error_response(api, request, 401, "Authentication is required: sign in or send a valid bearer token.")

    @api.exception_handler(AuthorizationError)
    def on_authorization_error(request, exc):
        return error_response(api, request, 403, str(exc) or "Forbidden.")

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        detail = str(exc)
        if detail.startswith("Cannot parse request body"):
            detail = "The request body is not valid JSON."
        return error_response(api, request, exc.status_code, detail)

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return error_response(api, request, 404, "Not found.")

    @api.exception_handler(ObjectDoesNotExist)
    def on_object_missing(request, exc):
        return error_response(api, request, 404, "Not found.")

    @api.exception_handler(DjangoValidationError)
    def on_django_validation_error(request, exc: DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = [{"field": field, "message": m} for field, messages in exc.message_dict.items() for m in messages]
        else:
            errors = [{"field": None, "message": m} for m in exc.messages]
        return error_response(api, request, 422, "Some values are not valid.", errors)


class PageOut(Schema):
    """Page metadata wrapped around every list."""

    count: int
    limit: int
    offset: int


class Pagination(PaginationBase):
    """`?limit=&offset=` pagination; the response carries the items and the total count."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500, description="Items per page, 1 to 500.")
        offset: int = Field(0, ge=0, le=10_000_000, description="Items to skip.")

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int

    items_attribute = "items"

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params) -> dict:
        return {
            "items": list(queryset[pagination.offset : pagination.offset + pagination.limit]),
            "count": queryset.count(),
            "limit": pagination.limit,
            "offset": pagination.offset,
        }


def apply_sort(queryset: QuerySet, sort: str | None, allowed: dict[str, str], default: str) -> QuerySet:
    """Order by `sort` (a public field name, `-` for descending; comma-separated for several).

    Only names in `allowed` (public name → ORM path) are accepted; anything else is a 422 naming the choices.
    """
    ordering = []
    for part in (sort or default).split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("-")
        if name not in allowed:
            raise ValidationFailed.field("sort", f"Cannot sort by {name!r}; choose from {', '.join(sorted(allowed))}.")
        ordering.append(("-" if descending else "") + allowed[name])
    return queryset.order_by(*ordering, "-pk" if ordering and ordering[0].startswith("-") else "pk")


def referenced(queryset: QuerySet, pk: int | None, *, field: str):
    """The row an input field refers to by id, among those the caller may see; a 422 on that field otherwise."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationFailed.field(field, f"No {queryset.model._meta.verbose_name} with id {pk}.")
    return found


def referenced_all(queryset: QuerySet, pks: list[int] | None, *, field: str) -> list | None:
    """All rows a list field refers to by id; a 422 naming the ids that do not exist or may not be seen."""
    if pks is None:
        return None
    found = {row.pk: row for row in queryset.filter(pk__in=set(pks))}
    missing = sorted(set(pks) - set(found))
    if missing:
        label = queryset.model._meta.verbose_name_plural
        raise ValidationFailed.field(field, f"No {label} with ids {', '.join(map(str, missing))}.")
    return [found[pk] for pk in dict.fromkeys(pks)]


def nested_by_resource(urls: tuple[list, str, str]) -> tuple[list, str, str]:
    """An API's URL configuration with the routes under each first path segment nested in one include.

    Ninja gives one flat pattern per operation (about 200), which Django tries in turn on every request; nested,
    a request tries a few dozen resource prefixes and then that resource's routes. A route without a slash stays a
    pattern of its own; names, and so `reverse()`, are unchanged.
    """
    patterns, app_name, namespace = urls
    nested, groups = [], {}
    for pattern in patterns:
        head, slash, rest = str(pattern.pattern).partition("/")
        if not slash or "<" in head:
            nested.append(pattern)
            continue
        if head not in groups:
            groups[head] = []
            nested.append(path(f"{head}/", include(groups[head])))
        groups[head].append(path(rest, pattern.callback, pattern.default_args, pattern.name))
    return nested, app_name, namespace
