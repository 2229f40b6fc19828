"""Domain errors raised by services and selectors; the API and the UI each map them in one place."""

from collections.abc import Iterable


class DomainError(Exception):
    """Base of every error a user can cause; carries an HTTP status and field-level messages."""

    status = 400
    default_detail = "The request could not be processed."

    def __init__(self, detail: str | None = None, *, errors: Iterable[tuple[str | None, str]] = ()):
        self.detail = detail or self.default_detail
        self.errors = [{"field": field, "message": message} for field, message in errors]
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    """Input that breaks a rule; `errors` names each field and what is wrong with it."""

    status = 422
    default_detail = "Some values are not valid."

    @classmethod
    def field(cls, field: str, message: str) -> "ValidationFailed":
        """One invalid field."""
        return cls(message, errors=[(field, message)])


class NotAuthenticated(DomainError):
    status = 401
    default_detail = "Authentication is required."


class PermissionDenied(DomainError):
    status = 403
    default_detail = "You do not have permission to do this."


class NotFound(DomainError):
    status = 404
    default_detail = "Not found."


class Conflict(DomainError):
    status = 409
    default_detail = "The request conflicts with the current state."


class StaleVersion(Conflict):
    """An edit based on an older version of the object than the one stored."""

    def __init__(self, *, expected: int, current: int):
        super().__init__(
            f"This object was changed by someone else (your version {expected}, current version {current}). "
            "Reload it and apply your change again.",
            errors=[("version", f"Expected version {current}.")],
        )
