"""Form helpers shared by every app's UI."""

from django import forms

from launchdeck.core.errors import DomainError


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes, so templates can render `{{ field }}` as it is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


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


def without_version(data: dict) -> dict:
    """A form's cleaned data for a create service: the optimistic-locking `version` field left out."""
    return {key: value for key, value in data.items() if key != "version"}
