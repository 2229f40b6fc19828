"""Helpers every domain service uses: validate a row, save it or report the conflict, and diff what changed."""

import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction

from launchdeck.core.errors import Conflict, DomainError, ValidationFailed


def _resolved_relations(instance: models.Model) -> list[str]:
    """Foreign keys already set to a saved object: the database checks them, no need to query for them first."""
    names = []
    for field in instance._meta.concrete_fields:
        if field.is_relation and field.is_cached(instance):
            related = field.get_cached_value(instance)
            if related is not None and related.pk is not None:
                names.append(field.name)
    return names


def validate(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Check the model's field rules (lengths, choices, validators) in Python; a broken one is a 422.

    Constraints (uniqueness, checks) are left to the database, which enforces them anyway and under concurrency;
    `save` turns its refusal into the constraint's own message.
    """
    try:
        instance.full_clean(
            exclude=[*(exclude or []), *_resolved_relations(instance)],
            validate_unique=False,
            validate_constraints=False,
        )
    except DjangoValidationError as exc:
        messages = [
            (None if field == NON_FIELD_ERRORS else field, " ".join(error.messages))
            for field, error_list in exc.error_dict.items()
            for error in error_list
        ]
        raise ValidationFailed(messages[0][1] if len(messages) == 1 else None, errors=messages) from None


def constraint_error(model: type[models.Model], exc: IntegrityError) -> DomainError:
    """The domain error for a database constraint refusal: its own message, 409 for duplicates, 422 for checks."""
    text = str(exc)
    for constraint in model._meta.constraints:
        if constraint.name in text or _columns_named(model, constraint, text):
            message = constraint.get_violation_error_message()
            if isinstance(constraint, models.UniqueConstraint):
                return Conflict(message, errors=[(None, message)])
            return ValidationFailed(message, errors=[(None, message)])
    for field in model._meta.concrete_fields:
        if field.unique and not field.primary_key and _unique_column_named(model, field, text):
            message = f"Another {model._meta.verbose_name} already has this {field.verbose_name}."
            return Conflict(message, errors=[(field.name, message)])
    return Conflict("This conflicts with a row saved at the same moment; reload and try again.")


def _columns_named(model, constraint, text: str) -> bool:
    """SQLite names a failed unique constraint on plain fields by its columns (`table.column, ...`), not its name."""
    fields = getattr(constraint, "fields", ())
    table = model._meta.db_table
    return bool(fields) and all(f"{table}.{model._meta.get_field(name).column}" in text for name in fields)


def _unique_column_named(model, field, text: str) -> bool:
    """A unique column in the refusal: SQLite says `table.column`, PostgreSQL names its `table_column_key` index."""
    table, column = model._meta.db_table, field.column
    return f"{table}.{column}" in text or f"{table}_{column}" in text


def save(instance: models.Model, *, exclude: list[str] | None = None) -> models.Model:
    """Validate and save; a constraint the row breaks (or a race lost to another writer) is a clear 4xx, not a 500."""
    validate(instance, exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise constraint_error(type(instance), exc) from exc
    return instance


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited values of `fields` (foreign keys by id)."""
    return {field: getattr(instance, instance._meta.get_field(field).attname) for field in fields}


def assign(instance: models.Model, changes: dict[str, Any]) -> None:
    """Set the given attributes; unknown names are a programming error, not user input.

    A null for optional text that is stored as "" (blank but not nullable) means empty: it clears the text.
    """
    for name, value in changes.items():
        if not hasattr(instance, name):
            raise AttributeError(f"{type(instance).__name__} has no field {name!r}")
        if value is None:
            field = _concrete_field(instance, name)
            if (
                field is not None
                and field.blank
                and not field.null
                and isinstance(field, (models.CharField, models.TextField))
            ):
                value = ""
        setattr(instance, name, value)


def _concrete_field(instance: models.Model, name: str):
    try:
        return instance._meta.get_field(name)
    except Exception:  # a property or a relation's reverse accessor: not a column
        return None


# Small rules of wording and input that every domain's services share


def blank_text_clears(changes: dict, *names: str) -> dict:
    """A null text field means none: the column holds "", and a null would only fail at the database."""
    for name in names:
        if name in changes and changes[name] is None:
            changes[name] = ""
    return changes


def require_values(changes: dict, **messages: str) -> None:
    """Refuse a null for a field that must have a value, naming it."""
    for name, message in messages.items():
        if name in changes and changes[name] is None:
            raise ValidationFailed.field(name, message)


def check_end_after_start(start, end, *, field: str = "end") -> None:
    """The one wording of "a window ends on or after its start", on the end field."""
    if start and end and end < start:
        raise ValidationFailed.field(field, "The end date cannot be before the start date.")


FIRST_PLAUSIBLE_DAY, LAST_PLAUSIBLE_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
IMPLAUSIBLE_DATE_MESSAGE = "Enter a date between the years 1900 and 2999."


def is_plausible_date(day: datetime.date | None) -> bool:
    """Whether a date can be part of a plan: years 1900 to 2999 (an empty date is left to the caller's rules).

    Typed years such as 0202 or 9999 are mistakes, and would overflow the date arithmetic of a plan.
    """
    return day is None or FIRST_PLAUSIBLE_DAY <= day <= LAST_PLAUSIBLE_DAY


def require_plausible_dates(**days: datetime.date | None) -> None:
    """Refuse, on its field, the first date given that lies outside the plausible years."""
    for field, day in days.items():
        if not is_plausible_date(day):
            raise ValidationFailed.field(field, IMPLAUSIBLE_DATE_MESSAGE)


def plural(count: int, singular: str, plural_form: str | None = None) -> tuple[int, str]:
    """A count with its noun in the right number, as `still_used` takes them: (2, "projects")."""
    return count, singular if count == 1 else (plural_form or singular + "s")
