"""Form helpers shared by every app's UI."""

from django import forms

from launchdeck.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: field messages beside their visible fields, the rest at the top."""
    unplaced = not exc.errors
    for error in exc.errors:
        field = form.fields.get(error["field"] or "")
        if field is not None and not field.widget.is_hidden:
            form.add_error(error["field"], error["message"])
        else:
            unplaced = True
    if unplaced:
        form.add_error(None, exc.detail)
