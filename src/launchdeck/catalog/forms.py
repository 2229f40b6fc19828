import json

from django import forms

from launchdeck.catalog.choices import DependencyCriticality, InterfaceKind, Lifecycle, SystemKind, Tier
from launchdeck.catalog.models import System
from launchdeck.core.forms import StyledForm
from launchdeck.org.models import Team


class SystemFilterForm(StyledForm):
    q = forms.CharField(required=False, max_length=200, label="", widget=forms.TextInput(attrs={"type": "search"}))
    owner_team = forms.ModelChoiceField(Team.objects.none(), required=False, empty_label="Any owner team", label="")
    tier = forms.TypedChoiceField(choices=[("", "Any tier"), *Tier.choices], coerce=int, required=False, label="")
    lifecycle = forms.ChoiceField(choices=[("", "Any lifecycle"), *Lifecycle.choices], required=False, label="")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_team"].queryset = teams
        self.fields["q"].widget.attrs.update(placeholder="Search systems", **{"aria-label": "Search systems"})


class ExternalIdsField(forms.CharField):
    """External ids typed as `tool: value` lines."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{key}: {item}" for key, item in value.items())
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        if text.strip().startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise forms.ValidationError("Write one `tool: value` per line.") from None
        pairs = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            key, colon, item = line.partition(":")
            if not colon:
                raise forms.ValidationError(f"“{line.strip()}” needs a colon: write `tool: value`.")
            pairs[key.strip()] = item.strip()
        return pairs


class SystemForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    name = forms.CharField(max_length=150)
    kind = forms.ChoiceField(choices=SystemKind.choices)
    owner_team = forms.ModelChoiceField(Team.objects.none())
    tier = forms.TypedChoiceField(choices=Tier.choices, coerce=int, initial=3, label="Criticality tier")
    lifecycle = forms.ChoiceField(choices=Lifecycle.choices, initial=Lifecycle.LIVE)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    external_ids = ExternalIdsField(
        required=False, max_length=5000, help_text="One `tool: id` per line, e.g. cmdb: CI0042"
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_team"].queryset = teams

    def clean_version(self):
        return self.cleaned_data.get("version") or None


class DependencyForm(StyledForm):
    target = forms.ModelChoiceField(
        System.objects.none(), label="Depends on", empty_label="Choose the system it depends on"
    )
    interface_kind = forms.ChoiceField(choices=InterfaceKind.choices, label="Interface")
    criticality = forms.ChoiceField(choices=DependencyCriticality.choices, initial=DependencyCriticality.MEDIUM)

    def __init__(self, *args, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = systems


class ComponentForm(StyledForm):
    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"placeholder": "Component name"}))
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.TextInput(attrs={"placeholder": "What it is (optional)"})
    )
