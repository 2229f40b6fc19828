"""Forms of the release planning pages: they parse input; the services decide what is allowed."""

import datetime

from dateutil.relativedelta import relativedelta
from django import forms

from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role
from launchdeck.catalog.models import System
from launchdeck.core.forms import DateInput, StyledForm
from launchdeck.core.services import IMPLAUSIBLE_DATE_MESSAGE, is_plausible_date
from launchdeck.core.ui import parse_id
from launchdeck.org.models import Calendar, Department
from launchdeck.portfolio.forms import MonthField, SearchForm, VersionedForm
from launchdeck.portfolio.models import Initiative, Portfolio, Project
from launchdeck.releases.choices import (
    DEPENDENCY_KIND_WORDS,
    ApprovalDecision,
    EnvironmentType,
    FreezeCategory,
    FreezeScope,
    MilestoneAnchor,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)
from launchdeck.releases.models import Phase, PhaseTemplate, Release, ReleaseTemplate

TEXTAREA = forms.Textarea(attrs={"rows": 3})

# Releases


def _any(label: str, choices) -> list:
    return [("", label), *choices]


GATE_BLOCKS = [(value, label) for value, label in ReleaseStatus.choices if value not in ("draft", "cancelled")]


class ReleaseFilterForm(SearchForm):
    kind = forms.ChoiceField(choices=_any("Any kind", ReleaseKind.choices), required=False, label="")
    status = forms.ChoiceField(
        choices=[("", "Any status"), ("open", "Not released or cancelled"), *ReleaseStatus.choices],
        required=False,
        label="",
    )
    train = forms.ModelChoiceField(Release.objects.none(), required=False, empty_label="Any train", label="")
    portfolio = forms.ModelChoiceField(Portfolio.objects.none(), required=False, empty_label="Any portfolio", label="")
    department = forms.ModelChoiceField(
        Department.objects.none(), required=False, empty_label="Any department", label=""
    )
    system = forms.ModelChoiceField(System.objects.none(), required=False, empty_label="Any system", label="")
    owner = forms.ChoiceField(choices=[("", "Any owner"), ("me", "Owned by me")], required=False, label="")
    sort = forms.ChoiceField(
        choices=[
            ("", "Sort: starts soonest"),
            ("-start", "Sort: starts latest"),
            ("end", "Sort: ends soonest"),
            ("name", "Sort: name"),
        ],
        required=False,
        label="",
    )

    def __init__(self, *args, trains, portfolios, departments, systems, **kwargs):
        super().__init__(*args, placeholder="Search releases", **kwargs)
        self.fields["train"].queryset = trains
        self.fields["portfolio"].queryset = portfolios
        self.fields["department"].queryset = departments
        self.fields["system"].queryset = systems


class ReleaseCreateForm(StyledForm):
    name = forms.CharField(max_length=150)
    kind = forms.ChoiceField(choices=ReleaseKind.choices, initial=ReleaseKind.PROJECT)
    template = forms.ModelChoiceField(
        ReleaseTemplate.objects.none(),
        required=False,
        empty_label="None: add phases by hand",
        help_text="Lays its phases, milestones and gates out on the working calendar from the start date.",
    )
    planned_start = forms.DateField(widget=DateInput(), label="Planned start")
    planned_end = forms.DateField(
        widget=DateInput(), required=False, label="Planned end", help_text="With a template: its last phase's end."
    )
    owner = forms.ModelChoiceField(User.objects.none(), required=False, empty_label="Nobody yet")
    portfolio = forms.ModelChoiceField(Portfolio.objects.none(), required=False, empty_label="None")
    initiative = forms.ModelChoiceField(Initiative.objects.none(), required=False, empty_label="None")
    project = forms.ModelChoiceField(Project.objects.none(), required=False, empty_label="None")
    calendar = forms.ModelChoiceField(
        Calendar.objects.none(), required=False, empty_label="Weekends only", label="Working calendar"
    )
    train = forms.ModelChoiceField(
        Release.objects.none(),
        required=False,
        empty_label="None: standalone",
        help_text="For a project release: the enterprise release it travels in.",
    )
    inherit_train_dates = forms.BooleanField(
        required=False, label="Inherit the train's phase dates", help_text="Phases of the train's kinds follow it."
    )
    description = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)

    def __init__(self, *args, templates, users, portfolios, initiatives, projects, calendars, trains, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["owner"].queryset = users
        self.fields["portfolio"].queryset = portfolios
        self.fields["initiative"].queryset = initiatives
        self.fields["project"].queryset = projects
        self.fields["calendar"].queryset = calendars
        self.fields["train"].queryset = trains

    def clean(self):
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if not data.get("template") and start and not end and "planned_end" not in self.errors:
            self.add_error("planned_end", "Give the end date, or choose a template that lays the dates out.")
        if start and end and end < start:
            self.add_error("planned_end", "The end date cannot be before the start.")
        return data


class ReleasePreviewForm(forms.Form):
    """The fields the template preview reads (the create form as it stands, unvalidated)."""

    template = forms.ModelChoiceField(ReleaseTemplate.objects.none())
    planned_start = forms.DateField()
    calendar = forms.ModelChoiceField(Calendar.objects.none(), required=False)

    def __init__(self, *args, templates, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["calendar"].queryset = calendars


class ReleaseEditForm(VersionedForm):
    name = forms.CharField(max_length=150)
    kind = forms.ChoiceField(choices=ReleaseKind.choices)
    planned_start = forms.DateField(widget=DateInput(), label="Planned start")
    planned_end = forms.DateField(widget=DateInput(), label="Planned end")
    actual_start = forms.DateField(widget=DateInput(), required=False, label="Actual start")
    actual_end = forms.DateField(widget=DateInput(), required=False, label="Actual end")
    owner = forms.ModelChoiceField(User.objects.none(), required=False, empty_label="Nobody yet")
    portfolio = forms.ModelChoiceField(Portfolio.objects.none(), required=False, empty_label="None")
    initiative = forms.ModelChoiceField(Initiative.objects.none(), required=False, empty_label="None")
    project = forms.ModelChoiceField(Project.objects.none(), required=False, empty_label="None")
    calendar = forms.ModelChoiceField(
        Calendar.objects.none(), required=False, empty_label="Weekends only", label="Working calendar"
    )
    description = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)

    def __init__(self, *args, users, portfolios, initiatives, projects, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users
        self.fields["portfolio"].queryset = portfolios
        self.fields["initiative"].queryset = initiatives
        self.fields["project"].queryset = projects
        self.fields["calendar"].queryset = calendars

    def clean(self):
        data = super().clean()
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, "The end date cannot be before the start.")
        return data


class TransitionForm(StyledForm):
    to_status = forms.ChoiceField(choices=ReleaseStatus.choices)
    reason = forms.CharField(max_length=1000, required=False)


class PhaseForm(VersionedForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=PhaseKind.choices)
    status = forms.ChoiceField(choices=PhaseStatus.choices, initial=PhaseStatus.NOT_STARTED)
    planned_start = forms.DateField(widget=DateInput(), label="Planned start")
    planned_end = forms.DateField(widget=DateInput(), label="Planned end")
    actual_start = forms.DateField(widget=DateInput(), required=False, label="Actual start")
    actual_end = forms.DateField(widget=DateInput(), required=False, label="Actual end")
    percent_complete = forms.IntegerField(min_value=0, max_value=100, initial=0, label="% complete")
    environment_type = forms.ChoiceField(
        choices=_any("No environment", EnvironmentType.choices), required=False, label="Environment needed"
    )
    test_effort_days = forms.DecimalField(
        min_value=0, max_digits=9, decimal_places=1, initial=0, label="Test effort (person-days)"
    )
    is_required = forms.BooleanField(required=False, initial=True, label="Required")

    def clean(self):
        data = super().clean()
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, "The end date cannot be before the start.")
        return data


class MilestoneForm(VersionedForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=MilestoneKind.choices, initial=MilestoneKind.OTHER)
    planned_date = forms.DateField(widget=DateInput(), label="Planned date")
    actual_date = forms.DateField(widget=DateInput(), required=False, label="Reached on")
    phase = forms.ModelChoiceField(Phase.objects.none(), required=False, empty_label="No phase")

    def __init__(self, *args, phases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = phases


class LinesField(forms.CharField):
    """One item per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


def role_choices() -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if value != Role.VIEWER]


class GateForm(VersionedForm):
    name = forms.CharField(max_length=100)
    blocks = forms.ChoiceField(
        choices=GATE_BLOCKS, initial=ReleaseStatus.RELEASED, help_text="The status the release cannot move to before."
    )
    due_date = forms.DateField(widget=DateInput(), label="Decision due")
    phase = forms.ModelChoiceField(Phase.objects.none(), required=False, empty_label="End of the release")
    approver_roles = forms.MultipleChoiceField(
        choices=role_choices, required=False, widget=forms.CheckboxSelectMultiple, label="Approved by"
    )
    checklist = LinesField(
        required=False, max_length=5000, help_text="Checklist items, one a line; ticks stay on items that stay."
    )
    checks = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple, label="Automatic checks"
    )

    def __init__(self, *args, phases, checks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = phases
        self.fields["checks"].choices = checks


class GateDecisionForm(StyledForm):
    role = forms.ChoiceField(choices=())
    decision = forms.ChoiceField(choices=ApprovalDecision.choices, initial=ApprovalDecision.APPROVED)
    comment = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Role.choices)
        self.fields["role"].choices = [(role, labels.get(role, role)) for role in roles]


class GateReasonForm(StyledForm):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CriterionTickForm(forms.Form):
    is_met = forms.BooleanField(required=False)


class ScopeForm(StyledForm):
    system = forms.ModelChoiceField(System.objects.none())
    impact = forms.ChoiceField(choices=SystemImpact.choices, initial=SystemImpact.IMPACTED)
    target_version = forms.CharField(max_length=100, required=False, label="Target version")

    def __init__(self, *args, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = systems


class ChildAddForm(StyledForm):
    release = forms.ModelChoiceField(
        Release.objects.none(), label="Project release", empty_label="Choose a standalone project release"
    )
    dates = forms.ChoiceField(
        choices=[("keep", "Keep its own phase dates"), ("inherit", "Inherit the train's phase dates")],
        initial="keep",
        widget=forms.RadioSelect,
        label="Phase dates",
    )

    def __init__(self, *args, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["release"].queryset = releases


class TrainJoinForm(StyledForm):
    train = forms.ModelChoiceField(Release.objects.none(), empty_label="Choose an enterprise release")
    dates = forms.ChoiceField(
        choices=[("keep", "Keep its own phase dates"), ("inherit", "Inherit the train's phase dates")],
        initial="keep",
        widget=forms.RadioSelect,
        label="Phase dates",
    )

    def __init__(self, *args, trains, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["train"].queryset = trains


# Timeline, calendar and impact matrix

TIMELINE_GROUPINGS = [("train", "Train"), ("portfolio", "Portfolio"), ("system", "System")]


def _plausible(day: datetime.date | None) -> datetime.date | None:
    """Refuse dates out of any plan (typed years such as 0202 or 9999 would also overflow the date arithmetic)."""
    if not is_plausible_date(day):
        raise forms.ValidationError(IMPLAUSIBLE_DATE_MESSAGE)
    return day


TIMELINE_DEFAULT_MONTHS = 5


def _quarter_around(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """This quarter with a month either side: the timeline's period when none is asked for."""
    quarter = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    start = quarter - relativedelta(months=1)
    return start, start + relativedelta(months=TIMELINE_DEFAULT_MONTHS) - datetime.timedelta(days=1)


class TimelineFilterForm(StyledForm):
    """What the consolidated timeline shows: how rows are grouped, which releases, and the period."""

    group_by = forms.ChoiceField(choices=TIMELINE_GROUPINGS, required=False, label="Group by")
    portfolio = forms.ModelChoiceField(Portfolio.objects.none(), required=False, empty_label="Every portfolio")
    department = forms.ModelChoiceField(Department.objects.none(), required=False, empty_label="Every department")
    system = forms.ModelChoiceField(System.objects.none(), required=False, empty_label="Every system")
    status = forms.ChoiceField(choices=_any("Any status", ReleaseStatus.choices), required=False)
    start = forms.DateField(required=False, widget=DateInput(), label="From")
    end = forms.DateField(required=False, widget=DateInput(), label="To")

    def __init__(self, *args, portfolios, departments, systems, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["portfolio"].queryset = portfolios
        self.fields["department"].queryset = departments
        self.fields["system"].queryset = systems

    def clean_start(self):
        return _plausible(self.cleaned_data.get("start"))

    def clean_end(self):
        return _plausible(self.cleaned_data.get("end"))

    def clean(self):
        """Fill in the period: both ends as given, one end and the default length, or the default period.

        Whether the period itself makes sense (its end after its start, not too long) is the selector's rule.
        """
        data = super().clean()
        data["group_by"] = data.get("group_by") or "train"
        if "start" in self.errors or "end" in self.errors:
            return data
        start, end = data.get("start"), data.get("end")
        if start and not end:
            end = start + relativedelta(months=TIMELINE_DEFAULT_MONTHS) - datetime.timedelta(days=1)
        elif end and not start:
            start = end + datetime.timedelta(days=1) - relativedelta(months=TIMELINE_DEFAULT_MONTHS)
        elif not start:
            start, end = _quarter_around(self.today)
        data["start"], data["end"] = start, end
        return data


class CalendarFilterForm(StyledForm):
    month = MonthField(required=False, label="Month")

    def clean_month(self):
        return _plausible(self.cleaned_data.get("month"))


IMPACT_MONTHS = [(3, "3 months"), (6, "6 months"), (12, "12 months")]


class ImpactMatrixFilterForm(StyledForm):
    start = MonthField(required=False, label="From month")
    months = forms.TypedChoiceField(choices=IMPACT_MONTHS, coerce=int, required=False, empty_value=6, label="For")

    def clean_start(self):
        return _plausible(self.cleaned_data.get("start"))


# Templates and freeze windows


class TemplateFilterForm(SearchForm):
    release_kind = forms.ChoiceField(choices=_any("Any kind", ReleaseKind.choices), required=False, label="")
    active = forms.ChoiceField(
        choices=[("", "Active and inactive"), ("yes", "Active only"), ("no", "Inactive only")],
        required=False,
        label="",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, placeholder="Search templates", **kwargs)
        self.fields["release_kind"].widget.attrs["aria-label"] = "Release kind"
        self.fields["active"].widget.attrs["aria-label"] = "Active or not"


class TemplateForm(VersionedForm):
    name = forms.CharField(max_length=150)
    release_kind = forms.ChoiceField(
        choices=ReleaseKind.choices, initial=ReleaseKind.PROJECT, label="For releases of kind"
    )
    description = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)
    is_active = forms.BooleanField(required=False, initial=True, label="Active: offered when a release is created")


class PhaseTemplateForm(VersionedForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=PhaseKind.choices)
    duration_days = forms.IntegerField(min_value=1, max_value=1000, initial=10, label="Duration (working days)")
    start_offset_days = forms.IntegerField(
        min_value=0,
        max_value=5000,
        required=False,
        label="Starts (working days after the release's start)",
        help_text="Leave empty to start right after the phase before it.",
    )
    position = forms.IntegerField(
        min_value=1, max_value=1000, required=False, help_text="Order in the lifecycle; leave empty to put it last."
    )
    environment_type = forms.ChoiceField(
        choices=_any("No environment", EnvironmentType.choices), required=False, label="Environment needed"
    )
    test_effort_days = forms.DecimalField(
        min_value=0, max_digits=9, decimal_places=1, initial=0, label="Test effort (person-days)"
    )
    is_required = forms.BooleanField(
        required=False, initial=True, label="Required: every release made from the template needs it"
    )


class MilestoneTemplateForm(VersionedForm):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=MilestoneKind.choices, initial=MilestoneKind.OTHER)
    phase = forms.ModelChoiceField(
        PhaseTemplate.objects.none(), required=False, empty_label="Choose the phase", label="Anchored to the phase"
    )
    anchor = forms.ChoiceField(choices=MilestoneAnchor.choices, initial=MilestoneAnchor.PHASE_END, label="At the")
    offset_days = forms.IntegerField(
        min_value=-250,
        max_value=250,
        initial=0,
        label="Offset (working days)",
        help_text="After the anchor; negative for before it.",
    )

    def __init__(self, *args, phases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = phases


class GateTemplateForm(VersionedForm):
    name = forms.CharField(max_length=100)
    phase = forms.ModelChoiceField(
        PhaseTemplate.objects.none(),
        required=False,
        empty_label="None: the end of the release",
        label="Due at the end of the phase",
    )
    blocks = forms.ChoiceField(
        choices=GATE_BLOCKS,
        initial=ReleaseStatus.RELEASED,
        label="Blocks the move to",
        help_text="The status a release cannot move to until the gate is passed.",
    )
    approver_roles = forms.MultipleChoiceField(
        choices=role_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Approved by",
        help_text="Someone holding each of these roles must approve.",
    )
    checklist = LinesField(
        required=False, max_length=5000, label="Checklist items", help_text="One item a line; a person ticks each."
    )
    checks = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, required=False, label="Automatic checks"
    )

    def __init__(self, *args, phases, checks, **kwargs):
        """`checks` are the registry's `(key, label)` pairs."""
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = phases
        self.fields["checks"].choices = checks


class TemplatePreviewForm(StyledForm):
    """The sample start date and working calendar the template page lays the lifecycle out on."""

    start = forms.DateField(widget=DateInput(), required=False, label="Sample start")
    calendar = forms.ModelChoiceField(
        Calendar.objects.none(), required=False, empty_label="Weekends only", label="Working calendar"
    )

    def __init__(self, *args, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = calendars


class FreezeFilterForm(SearchForm):
    category = forms.ChoiceField(choices=_any("Any category", FreezeCategory.choices), required=False, label="")
    scope = forms.ChoiceField(choices=_any("Any scope", FreezeScope.choices), required=False, label="")
    when = forms.ChoiceField(
        choices=[("", "Past and upcoming"), ("upcoming", "In force or upcoming"), ("past", "Past")],
        required=False,
        label="",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, placeholder="Search freezes", **kwargs)
        for name, label in (("category", "Category"), ("scope", "Scope"), ("when", "When")):
            self.fields[name].widget.attrs["aria-label"] = label


class FreezeWindowForm(VersionedForm):
    name = forms.CharField(max_length=150)
    category = forms.ChoiceField(choices=FreezeCategory.choices, initial=FreezeCategory.DEPLOYMENT, label="Freezes")
    scope = forms.ChoiceField(choices=FreezeScope.choices, initial=FreezeScope.ORGANISATION, label="Applies to")
    portfolios = forms.ModelMultipleChoiceField(
        Portfolio.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Releases of these portfolios (each sub-portfolio is chosen on its own). Ctrl-click for several.",
    )
    systems = forms.ModelMultipleChoiceField(
        System.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Releases with any of these systems in scope. Ctrl-click for several.",
    )
    environment_types = forms.MultipleChoiceField(
        choices=EnvironmentType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Environment types",
    )
    starts_on = forms.DateField(widget=DateInput(), label="First day")
    ends_on = forms.DateField(widget=DateInput(), label="Last day", help_text="Inclusive.")
    recurrence = forms.ChoiceField(choices=Recurrence.choices, initial=Recurrence.NONE, label="Repeats")
    recurs_until = forms.DateField(
        widget=DateInput(),
        required=False,
        label="Repeats until",
        help_text="The last day an occurrence may start.",
    )
    reason = forms.CharField(widget=TEXTAREA, required=False, max_length=5000)

    def __init__(self, *args, portfolios, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolios"].queryset = portfolios
        self.fields["systems"].queryset = systems


# Dependencies and predictability

DEPENDENCY_DIRECTIONS = [
    ("waits_for", "waits for the other release's item"),
    ("waited_on_by", "is waited on by the other release's item"),
]
DEPENDENCY_KINDS = [
    (kind.value, f"{kind.label}: the waiting item {waiting} the other {then}")
    for kind, (waiting, then) in DEPENDENCY_KIND_WORDS.items()
]


class DependencyForm(StyledForm):
    """A dependency seen from one release: which of its items, which way, and which item of which other release.

    The other release's items are the choices of the release posted (or chosen); `item_choices(release)` lists them.
    With `typed_release` the other release is typed as its number (too many releases for one list).
    """

    this_item = forms.ChoiceField(label="This release's item")
    direction = forms.ChoiceField(choices=DEPENDENCY_DIRECTIONS, initial="waits_for", label="Which way")
    other_release = forms.ModelChoiceField(
        Release.objects.none(),
        label="Other release",
        empty_label="Choose a release",
        error_messages={"invalid_choice": "No release you may see and plan has that number."},
    )
    other_item = forms.ChoiceField(label="Its item")
    kind = forms.ChoiceField(choices=DEPENDENCY_KINDS, initial="FS")
    lag_days = forms.IntegerField(
        initial=0,
        label="Lag in working days",
        help_text="Working days between the two; negative for a lead (the waiting item may begin that much earlier).",
    )
    note = forms.CharField(widget=TEXTAREA, required=False, max_length=2000)

    def __init__(self, *args, this_items, releases, item_choices, items_url: str, typed_release=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["this_item"].choices = this_items
        field = self.fields["other_release"]
        field.queryset = releases
        if typed_release:
            field.widget = forms.NumberInput(attrs={"class": "form-control", "min": 1})
            field.label = "Other release (its number)"
            field.help_text = "The number in its page's address: /releases/<number>/."
        field.widget.attrs.update(
            {
                "hx-get": items_url,
                "hx-trigger": "change delay:250ms" if typed_release else "change",
                "hx-target": "#dependency-other-item",
                "hx-swap": "outerHTML",
            }
        )
        chosen = self._chosen_release(releases)
        self.fields["other_item"].choices = (
            item_choices(chosen) if chosen is not None else [("", "Choose the other release first")]
        )

    def _chosen_release(self, releases):
        raw = self.data.get(self.add_prefix("other_release")) if self.is_bound else self.initial.get("other_release")
        pk = parse_id(getattr(raw, "pk", raw))
        return releases.filter(pk=pk).first() if pk is not None else None


PREDICTABILITY_GROUPINGS = [("team", "Team"), ("portfolio", "Portfolio"), ("period", "Quarter")]


class PredictabilityFilterForm(StyledForm):
    """How the predictability figures are grouped, and the window of actual end dates they count."""

    group_by = forms.ChoiceField(choices=PREDICTABILITY_GROUPINGS, required=False, label="Group by")
    start = forms.DateField(required=False, widget=DateInput(), label="Released from")
    end = forms.DateField(required=False, widget=DateInput(), label="Released until")

    def clean_start(self):
        return _plausible(self.cleaned_data.get("start"))

    def clean_end(self):
        return _plausible(self.cleaned_data.get("end"))

    def clean(self):
        data = super().clean()
        data["group_by"] = data.get("group_by") or "team"
        return data
