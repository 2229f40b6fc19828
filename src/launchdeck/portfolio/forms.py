import datetime

from django import forms

from launchdeck.accounts.models import User
from launchdeck.core.forms import DateInput, StyledForm
from launchdeck.org.models import Department, Team
from launchdeck.portfolio.choices import (
    AllocationUnit,
    Impact,
    InitiativeStatus,
    RegisterCategory,
    RegisterKind,
    RegisterStatus,
)
from launchdeck.portfolio.models import Initiative, Portfolio, Project

TEXTAREA = forms.Textarea(attrs={"rows": 3})
MONEY = {"min_value": 0, "max_digits": 14, "decimal_places": 2}


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class MonthField(forms.DateField):
    """A month typed as YYYY-MM (the browser's month picker); the first day of that month."""

    widget = MonthInput
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class SearchForm(StyledForm):
    q = forms.CharField(required=False, max_length=200, label="", widget=forms.TextInput(attrs={"type": "search"}))

    def __init__(self, *args, placeholder: str = "Search", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(placeholder=placeholder, **{"aria-label": placeholder})


class VersionedForm(StyledForm):
    """Edit forms carry the version that was read, so a stale save is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def clean_version(self):
        return self.cleaned_data.get("version") or None


def _choices(empty: str, choices) -> list:
    return [("", empty), *choices]


class InitiativeFilterForm(SearchForm):
    portfolio = forms.ModelChoiceField(Portfolio.objects.none(), required=False, empty_label="Any portfolio", label="")
    department = forms.ModelChoiceField(
        Department.objects.none(), required=False, empty_label="Any department", label=""
    )
    status = forms.ChoiceField(choices=_choices("Any status", InitiativeStatus.choices), required=False, label="")

    def __init__(self, *args, portfolios, departments, **kwargs):
        super().__init__(*args, placeholder="Search initiatives", **kwargs)
        self.fields["portfolio"].queryset = portfolios
        self.fields["department"].queryset = departments


class ProjectFilterForm(SearchForm):
    initiative = forms.ModelChoiceField(
        Initiative.objects.none(), required=False, empty_label="Any initiative", label=""
    )
    owner_team = forms.ModelChoiceField(Team.objects.none(), required=False, empty_label="Any owner team", label="")

    def __init__(self, *args, initiatives, teams, **kwargs):
        super().__init__(*args, placeholder="Search projects", **kwargs)
        self.fields["initiative"].queryset = initiatives
        self.fields["owner_team"].queryset = teams


class RegisterFilterForm(SearchForm):
    kind = forms.ChoiceField(choices=_choices("Any kind", RegisterKind.choices), required=False, label="")
    category = forms.ChoiceField(choices=_choices("Any category", RegisterCategory.choices), required=False, label="")
    impact = forms.ChoiceField(choices=_choices("Any impact", Impact.choices), required=False, label="")
    status = forms.ChoiceField(
        choices=[("", "Any status"), ("active", "Open or mitigating"), *RegisterStatus.choices],
        required=False,
        label="",
    )
    tag = forms.CharField(required=False, max_length=40, label="")
    portfolio = forms.ModelChoiceField(Portfolio.objects.none(), required=False, empty_label="Any portfolio", label="")
    initiative = forms.ModelChoiceField(
        Initiative.objects.none(), required=False, empty_label="Any initiative", label=""
    )

    def __init__(self, *args, portfolios, initiatives, **kwargs):
        super().__init__(*args, placeholder="Search the register", **kwargs)
        self.fields["portfolio"].queryset = portfolios
        self.fields["initiative"].queryset = initiatives
        self.fields["tag"].widget.attrs.update(placeholder="Tag, e.g. test-data", **{"aria-label": "Tag"})


class PortfolioViewFilterForm(StyledForm):
    department = forms.ModelChoiceField(
        Department.objects.none(), required=False, empty_label="Every department", label="Sponsoring department"
    )
    start = MonthField(required=False, label="From")
    end = MonthField(required=False, label="To")

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The last month cannot be before the first.")
        return data


class TeamLoadForm(StyledForm):
    start = forms.DateField(required=False, widget=DateInput(), label="From")
    weeks = forms.TypedChoiceField(
        choices=[(13, "13 weeks"), (26, "26 weeks"), (52, "52 weeks")], coerce=int, initial=13, required=False
    )


class PortfolioForm(VersionedForm):
    name = forms.CharField(max_length=150)
    parent = forms.ModelChoiceField(
        Portfolio.objects.none(), required=False, empty_label="None: a top-level portfolio", label="Inside portfolio"
    )
    description = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)

    def __init__(self, *args, portfolios, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = portfolios


class InitiativeForm(VersionedForm):
    name = forms.CharField(max_length=150)
    portfolio = forms.ModelChoiceField(Portfolio.objects.none())
    department = forms.ModelChoiceField(Department.objects.none(), label="Sponsoring department")
    owner = forms.ModelChoiceField(User.objects.none(), required=False, empty_label="Nobody yet")
    objective = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)
    start = forms.DateField(widget=DateInput())
    end = forms.DateField(widget=DateInput())
    budget = forms.DecimalField(**MONEY, initial=0, help_text="The whole budget for the initiative's life.")
    status = forms.ChoiceField(choices=InitiativeStatus.choices, initial=InitiativeStatus.PROPOSED)

    def __init__(self, *args, portfolios, departments, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = portfolios
        self.fields["department"].queryset = departments
        self.fields["owner"].queryset = users


class ProjectForm(VersionedForm):
    name = forms.CharField(max_length=150)
    initiative = forms.ModelChoiceField(Initiative.objects.none())
    owner_team = forms.ModelChoiceField(Team.objects.none())
    start = forms.DateField(widget=DateInput())
    end = forms.DateField(widget=DateInput())
    description = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)

    def __init__(self, *args, initiatives, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["initiative"].queryset = initiatives
        self.fields["owner_team"].queryset = teams


class SpendForm(StyledForm):
    """One month of spend, recorded from the initiative's page."""

    month = MonthField(initial=lambda: datetime.date.today().replace(day=1))
    department = forms.ModelChoiceField(Department.objects.none())
    planned = forms.DecimalField(**MONEY, initial=0)
    actual = forms.DecimalField(**MONEY, required=False, help_text="Leave empty until the month is booked.")

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class SpendEditForm(VersionedForm):
    planned = forms.DecimalField(**MONEY)
    actual = forms.DecimalField(**MONEY, required=False, help_text="Leave empty until the month is booked.")


class AllocationForm(VersionedForm):
    team = forms.ModelChoiceField(Team.objects.none())
    start = forms.DateField(widget=DateInput())
    end = forms.DateField(widget=DateInput())
    unit = forms.ChoiceField(choices=AllocationUnit.choices, initial=AllocationUnit.PERSON_DAYS)
    amount = forms.DecimalField(
        max_digits=8,
        decimal_places=1,
        help_text="Person-days per week, or % of capacity. More than the team can do is allowed, and flagged.",
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class TagsField(forms.CharField):
    """Tags typed comma-separated."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [part for part in (piece.strip() for piece in text.split(",")) if part]


class RegisterItemForm(VersionedForm):
    kind = forms.ChoiceField(choices=RegisterKind.choices)
    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=RegisterCategory.choices)
    impact = forms.ChoiceField(choices=Impact.choices, initial=Impact.MEDIUM)
    status = forms.ChoiceField(
        choices=_choices("Default (recorded for a lesson, open otherwise)", RegisterStatus.choices), required=False
    )
    initiative = forms.ModelChoiceField(
        Initiative.objects.none(),
        required=False,
        empty_label="Choose one, or a project below",
        help_text="With a project chosen, the project's initiative.",
    )
    project = forms.ModelChoiceField(Project.objects.none(), required=False, empty_label="None")
    owner = forms.ModelChoiceField(User.objects.none(), required=False, empty_label="Nobody yet")
    raised_on = forms.DateField(widget=DateInput(), initial=datetime.date.today)
    closed_on = forms.DateField(widget=DateInput(), required=False, help_text="Closed items only; default today.")
    tags = TagsField(
        required=False, max_length=500, help_text="Comma-separated, e.g. test-data, environments. At most 10."
    )
    description = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)

    def __init__(self, *args, initiatives, projects, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["initiative"].queryset = initiatives
        self.fields["project"].queryset = projects
        self.fields["owner"].queryset = users

    def clean_status(self):
        return self.cleaned_data.get("status") or None
