from django import forms

from launchdeck.accounts.models import User
from launchdeck.core.forms import DateInput, StyledForm
from launchdeck.org.choices import Skill, Weekday
from launchdeck.org.models import Calendar, Department, Team


class SearchForm(StyledForm):
    q = forms.CharField(required=False, max_length=200, label="", widget=forms.TextInput(attrs={"type": "search"}))

    def __init__(self, *args, placeholder: str = "Search", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(placeholder=placeholder, **{"aria-label": placeholder})


class TeamFilterForm(SearchForm):
    department = forms.ModelChoiceField(
        Department.objects.none(), required=False, empty_label="Any department", label=""
    )
    skill = forms.ChoiceField(choices=[("", "Any skill"), *Skill.choices], required=False, label="")

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, placeholder="Search teams", **kwargs)
        self.fields["department"].queryset = departments


class PersonFilterForm(SearchForm):
    team = forms.ModelChoiceField(Team.objects.none(), required=False, empty_label="Any team", label="")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, placeholder="Search name or e-mail", **kwargs)
        self.fields["team"].queryset = teams


class VersionedForm(StyledForm):
    """Edit forms carry the version that was read, so a stale save is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def clean_version(self):
        return self.cleaned_data.get("version") or None


class CalendarForm(VersionedForm):
    name = forms.CharField(max_length=100)
    country = forms.CharField(max_length=2, required=False, help_text="Two-letter code whose public holidays apply.")
    subdivision = forms.CharField(max_length=10, required=False, label="Region", help_text="e.g. ENG, BY; optional.")
    weekend = forms.TypedMultipleChoiceField(
        choices=Weekday.choices, coerce=int, widget=forms.CheckboxSelectMultiple, required=False, initial=[5, 6]
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class ClosureForm(StyledForm):
    name = forms.CharField(max_length=100)
    start = forms.DateField(widget=DateInput())
    end = forms.DateField(widget=DateInput())


class DepartmentForm(VersionedForm):
    name = forms.CharField(max_length=120)
    cost_centre = forms.CharField(max_length=40)
    calendar = forms.ModelChoiceField(Calendar.objects.none(), required=False, empty_label="Weekends only")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)

    def __init__(self, *args, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = calendars


class TeamForm(VersionedForm):
    name = forms.CharField(max_length=120)
    department = forms.ModelChoiceField(Department.objects.none())
    capacity_person_days_per_week = forms.DecimalField(
        min_value=0, max_value=100_000, max_digits=8, decimal_places=1, label="Capacity (person-days per week)"
    )
    skills = forms.MultipleChoiceField(choices=Skill.choices, widget=forms.CheckboxSelectMultiple, required=False)
    calendar = forms.ModelChoiceField(Calendar.objects.none(), required=False, empty_label="The department's")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)

    def __init__(self, *args, departments, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["calendar"].queryset = calendars


class PersonForm(VersionedForm):
    full_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254)
    fte = forms.DecimalField(min_value=0.01, max_value=1, max_digits=3, decimal_places=2, label="FTE", initial=1)
    teams = forms.ModelMultipleChoiceField(
        Team.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    user = forms.ModelChoiceField(
        User.objects.none(),
        required=False,
        empty_label="Does not sign in",
        label="Sign-in account",
        to_field_name="username",
    )

    def __init__(self, *args, teams, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = teams
        self.fields["user"].queryset = users
