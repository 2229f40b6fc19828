"""Form helpers shared by every app's UI."""

from django import forms

from launchdeck.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: field messages beside their fields, the rest at the top."""
    placed = False
    for error in exc.errors:
        field = error["field"] if error["field"] in form.fields else None
        form.add_error(field, error["message"])
        placed = True
    if not placed:
        form.add_error(None, exc.detail)
