"""Helpers every domain service uses: validate a row, save it or report the conflict, and diff what changed."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction

from launchdeck.core.errors import Conflict, ValidationFailed

UNIQUE_CODES = frozenset({"unique", "unique_together"})


def validate(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run the model's field rules and constraints; a duplicate is a 409 Conflict, anything else a 422."""
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        errors = [
            (None if field == "__all__" else field, error)
            for field, error_list in exc.error_dict.items()
            for error in error_list
        ]
        messages = [(field, " ".join(error.messages)) for field, error in errors]
        if all(error.code in UNIQUE_CODES for _, error in errors):
            raise Conflict(messages[0][1], errors=messages) from None
        raise ValidationFailed(messages[0][1] if len(messages) == 1 else None, errors=messages) from None


def save(instance: models.Model, *, exclude: list[str] | None = None) -> models.Model:
    """Validate and save; a uniqueness race lost at the database is reported as a 409, not a 500."""
    validate(instance, exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict("This conflicts with a row saved at the same moment; reload and try again.") from exc
    return instance


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited values of `fields` (foreign keys by id)."""
    return {field: getattr(instance, instance._meta.get_field(field).attname) for field in fields}


def assign(instance: models.Model, changes: dict[str, Any]) -> None:
    """Set the given attributes; unknown names are a programming error, not user input."""
    for name, value in changes.items():
        if not hasattr(instance, name):
            raise AttributeError(f"{type(instance).__name__} has no field {name!r}")
        setattr(instance, name, value)
