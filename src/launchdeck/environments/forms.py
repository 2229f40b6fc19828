"""Forms of the environments pages: filters and the fields people type; the rules stay in the services."""

import datetime
from decimal import Decimal

from django import forms

from launchdeck.catalog.models import Component, System
from launchdeck.core.forms import DateInput, StyledForm
from launchdeck.core.services import IMPLAUSIBLE_DATE_MESSAGE, is_plausible_date
from launchdeck.environments.choices import (
    BookingStatus,
    BookingUsage,
    DeploymentOutcome,
    DeploymentSource,
    EnvironmentCategory,
    EnvironmentStatus,
    Hosting,
    RequestKind,
    RequestStatus,
)
from launchdeck.environments.models import MAX_CAPACITY, MAX_VERSION_LENGTH, Environment, EnvironmentGroup
from launchdeck.environments.selectors import fill_window
from launchdeck.environments.services import MAX_OCCURRENCES
from launchdeck.org.models import Team
from launchdeck.releases.choices import EnvironmentType, Recurrence, ReleaseStatus
from launchdeck.releases.models import Phase, Release

# Inventory


def plausible_day(day: datetime.date | datetime.datetime | None) -> datetime.date | datetime.datetime | None:
    """A form field's cleaned day (or moment), refused with the one wording when its year is implausible."""
    if day is not None and not is_plausible_date(day.date() if isinstance(day, datetime.datetime) else day):
        raise forms.ValidationError(IMPLAUSIBLE_DATE_MESSAGE)
    return day


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; the time is read in the site's time zone."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class EnvironmentFilterForm(StyledForm):
    q = forms.CharField(required=False, max_length=200, label="", widget=forms.TextInput(attrs={"type": "search"}))
    type = forms.ChoiceField(choices=[("", "Any type"), *EnvironmentType.choices], required=False, label="")
    category = forms.ChoiceField(choices=[("", "Any category"), *EnvironmentCategory.choices], required=False, label="")
    status = forms.ChoiceField(choices=[("", "Any status"), *EnvironmentStatus.choices], required=False, label="")
    group = forms.ModelChoiceField(EnvironmentGroup.objects.none(), required=False, empty_label="Any group", label="")
    owner_team = forms.ModelChoiceField(Team.objects.none(), required=False, empty_label="Any owner team", label="")

    def __init__(self, *args, teams, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_team"].queryset = teams
        self.fields["group"].queryset = groups
        self.fields["q"].widget.attrs.update(placeholder="Search environments", **{"aria-label": "Search environments"})


class EnvironmentForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    name = forms.CharField(max_length=120)
    environment_type = forms.ChoiceField(choices=EnvironmentType.choices, label="Type")
    category = forms.ChoiceField(choices=EnvironmentCategory.choices, initial=EnvironmentCategory.NON_PRODUCTION)
    hosting = forms.ChoiceField(choices=Hosting.choices, initial=Hosting.CLOUD)
    group = forms.ModelChoiceField(EnvironmentGroup.objects.none(), required=False, empty_label="No group")
    owner_team = forms.ModelChoiceField(Team.objects.none())
    capacity = forms.IntegerField(
        min_value=1,
        max_value=MAX_CAPACITY,
        initial=1,
        help_text="How many bookings may overlap: 1 is exclusive use; shared (regression) bookings fill the rest.",
    )
    cost_per_day = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2, initial=0)
    url = forms.URLField(label="URL", required=False, max_length=500, assume_scheme="https")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    depends_on = forms.ModelMultipleChoiceField(
        Environment.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Environments this one needs to work (e.g. a shared data environment).",
    )
    status = forms.ChoiceField(
        choices=[choice for choice in EnvironmentStatus.choices if choice[0] != EnvironmentStatus.DECOMMISSIONED],
        initial=EnvironmentStatus.AVAILABLE,
        label="Status from now",
        help_text="Provisioning while it is being built; it starts the status history.",
    )

    def __init__(self, *args, teams, groups, environments, new=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_team"].queryset = teams
        self.fields["group"].queryset = groups
        self.fields["depends_on"].queryset = environments
        if not new:
            # The status of an existing environment changes through its own form, which keeps the history.
            del self.fields["status"]

    def clean_version(self):
        return self.cleaned_data.get("version") or None


class EnvironmentStatusForm(StyledForm):
    status = forms.ChoiceField(choices=EnvironmentStatus.choices)
    note = forms.CharField(required=False, max_length=500, help_text="Why: the incident, the maintenance window.")
    at = forms.DateTimeField(
        required=False,
        label="From",
        widget=DateTimeInput(),
        help_text="When the status began, in the site's time zone; empty is now. Not before the current status began.",
    )


class EnvironmentComponentForm(StyledForm):
    system = forms.ModelChoiceField(System.objects.none())
    component = forms.ModelChoiceField(
        Component.objects.none(),
        required=False,
        empty_label="The whole system",
        help_text="The part, where it matters.",
    )
    version = forms.CharField(max_length=MAX_VERSION_LENGTH, required=False, label="Version deployed")
    configuration = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="Endpoints, feature flags, data set.",
    )
    deployed_at = forms.DateTimeField(
        required=False, label="Deployed at", widget=DateTimeInput(), help_text="In the site's time zone."
    )

    def __init__(self, *args, systems, components, fixed_system=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = systems
        self.fields["component"].queryset = components
        if fixed_system:
            self.fields["system"].disabled = True


class EnvironmentGroupForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)

    def clean_version(self):
        return self.cleaned_data.get("version") or None


class EnvironmentDependencyForm(StyledForm):
    depends_on = forms.ModelChoiceField(
        Environment.objects.none(), label="Depends on", empty_label="Choose the environment it needs"
    )

    def __init__(self, *args, environments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["depends_on"].queryset = environments


# Bookings

CLOSED_RELEASE_STATUSES = (ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED)


class BookingFilterForm(StyledForm):
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.none(), required=False, empty_label="Any environment"
    )
    type = forms.ChoiceField(choices=[("", "Any type"), *EnvironmentType.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), ("live", "Live"), *BookingStatus.choices], required=False)
    release = forms.ModelChoiceField(queryset=Release.objects.none(), required=False, empty_label="Any release")

    def __init__(self, *args, environments, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments
        self.fields["release"].queryset = releases


class PhaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.release.name} / {obj.name} ({obj.planned_start:%d %b} to {obj.planned_end:%d %b %Y})"


class BookingForm(StyledForm):
    """A booking's window and what it is for; the dates are read in the site's time zone."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    environment = forms.ModelChoiceField(queryset=Environment.objects.none())
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeInput())
    ends_at = forms.DateTimeField(label="Ends", widget=DateTimeInput(), help_text="The booking ends at this moment.")
    usage = forms.ChoiceField(choices=BookingUsage.choices, initial=BookingUsage.EXCLUSIVE)
    phase = PhaseChoiceField(
        queryset=Phase.objects.none(), required=False, help_text="The booking moves when the phase moves."
    )
    release = forms.ModelChoiceField(queryset=Release.objects.none(), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    purpose = forms.CharField(max_length=200, required=False)
    repeat = forms.ChoiceField(
        choices=[
            (Recurrence.NONE, "Does not repeat"),
            (Recurrence.WEEKLY, "Every week"),
            (Recurrence.MONTHLY, "Every month"),
        ],
        required=False,
        initial=Recurrence.NONE,
    )
    occurrences = forms.IntegerField(min_value=1, max_value=MAX_OCCURRENCES, initial=1, required=False)

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = Environment.objects.restrict(user, "view").order_by("name")
        self.fields["phase"].queryset = (
            Phase.objects.restrict(user, "view")
            .exclude(release__status__in=CLOSED_RELEASE_STATUSES)
            .select_related("release")
            .order_by("release__name", "planned_start", "pk")
        )
        self.fields["release"].queryset = (
            Release.objects.restrict(user, "view").exclude(status__in=CLOSED_RELEASE_STATUSES).order_by("name")
        )
        self.fields["team"].queryset = Team.objects.restrict(user, "view").order_by("name")
        if editing:
            for name in ("environment", "phase", "release", "repeat", "occurrences"):
                del self.fields[name]

    def clean_starts_at(self):
        return plausible_day(self.cleaned_data.get("starts_at"))

    def clean_ends_at(self):
        return plausible_day(self.cleaned_data.get("ends_at"))

    def clean(self):
        data = super().clean()
        if "repeat" in self.fields:
            data["repeat"] = data.get("repeat") or Recurrence.NONE
            data["occurrences"] = data.get("occurrences") or 1
        return data


class DecisionForm(StyledForm):
    note = forms.CharField(max_length=2000, required=False)


class ReportWindowForm(StyledForm):
    start = forms.DateField(widget=DateInput(), required=False)
    end = forms.DateField(widget=DateInput(), required=False)

    def clean_start(self):
        return plausible_day(self.cleaned_data.get("start"))

    def clean_end(self):
        return plausible_day(self.cleaned_data.get("end"))


# Environment requests

REQUEST_STATUS_FILTERS = [("", "Any status"), ("open", "Open (requested or in progress)"), *RequestStatus.choices]


class EnvironmentRequestFilterForm(StyledForm):
    q = forms.CharField(required=False, max_length=200, label="", widget=forms.TextInput(attrs={"type": "search"}))
    kind = forms.ChoiceField(choices=[("", "Any kind"), *RequestKind.choices], required=False, label="")
    status = forms.ChoiceField(choices=REQUEST_STATUS_FILTERS, required=False, label="")
    team = forms.ModelChoiceField(Team.objects.none(), required=False, empty_label="Any team", label="")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["q"].widget.attrs.update(placeholder="Search requests", **{"aria-label": "Search requests"})
        self.fields["kind"].widget.attrs["aria-label"] = "Kind"
        self.fields["status"].widget.attrs["aria-label"] = "Status"
        self.fields["team"].widget.attrs["aria-label"] = "Team"


class RequestPhaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.release.name} — {obj.name} (starts {obj.planned_start:%d %b %Y})"


class EnvironmentRequestForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=RequestKind.choices)
    team = forms.ModelChoiceField(Team.objects.none(), help_text="The team that does the work.")
    environment = forms.ModelChoiceField(
        Environment.objects.none(), required=False, help_text="Needed for every kind but provisioning."
    )
    environment_type = forms.ChoiceField(
        choices=[("", "—"), *EnvironmentType.choices],
        required=False,
        label="Environment type",
        help_text="For provisioning: the type of environment wanted.",
    )
    phase = RequestPhaseChoiceField(
        Phase.objects.none(),
        required=False,
        help_text="The phase that needs the environment: the request is due on the last working day before it starts.",
    )
    release = forms.ModelChoiceField(Release.objects.none(), required=False, help_text="Taken from the phase if given.")
    due_on = forms.DateField(
        required=False, widget=DateInput(), label="Due on", help_text="Needed when no phase is given."
    )
    effort_hours = forms.DecimalField(
        min_value=Decimal("0.5"), max_value=Decimal("10000"), max_digits=7, decimal_places=1, label="Effort (hours)"
    )
    sla_days = forms.IntegerField(
        min_value=1,
        max_value=250,
        required=False,
        label="SLA (working days)",
        help_text="Empty: by kind (provisioning 10, configuration 3, data refresh 5, decommission 5).",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)

    def __init__(self, *args, teams, environments, phases, releases, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["environment"].queryset = environments
        self.fields["phase"].queryset = phases
        self.fields["release"].queryset = releases
        if editing:
            del self.fields["kind"]

    def clean_version(self):
        return self.cleaned_data.get("version") or None

    def clean_due_on(self):
        return plausible_day(self.cleaned_data.get("due_on"))


class RequestNoteForm(StyledForm):
    note = forms.CharField(required=False, max_length=500)


class TeamLoadForm(StyledForm):
    team = forms.ModelChoiceField(Team.objects.none(), empty_label="Choose a team")
    start = forms.DateField(required=False, widget=DateInput(), label="From the week of")
    weeks = forms.IntegerField(min_value=1, max_value=104, initial=12, required=False)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean_start(self):
        return plausible_day(self.cleaned_data.get("start"))


# Deployments and versions
class DeploymentFilterForm(StyledForm):
    q = forms.CharField(required=False, max_length=200, label="", widget=forms.TextInput(attrs={"type": "search"}))
    environment = forms.ModelChoiceField(
        Environment.objects.none(), required=False, empty_label="Any environment", label=""
    )
    system = forms.ModelChoiceField(System.objects.none(), required=False, empty_label="Any system", label="")
    release = forms.ModelChoiceField(Release.objects.none(), required=False, empty_label="Any release", label="")
    outcome = forms.ChoiceField(choices=[("", "Any outcome"), *DeploymentOutcome.choices], required=False, label="")
    source = forms.ChoiceField(choices=[("", "Any source"), *DeploymentSource.choices], required=False, label="")
    since = forms.DateField(required=False, widget=DateInput(attrs={"aria-label": "Deployed from"}), label="")
    until = forms.DateField(required=False, widget=DateInput(attrs={"aria-label": "Deployed until"}), label="")

    def __init__(self, *args, environments, systems, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments
        self.fields["system"].queryset = systems
        self.fields["release"].queryset = releases
        self.fields["q"].widget.attrs.update(
            placeholder="Version, change or run id", **{"aria-label": "Search deployments"}
        )

    def clean_since(self):
        return plausible_day(self.cleaned_data.get("since"))

    def clean_until(self):
        return plausible_day(self.cleaned_data.get("until"))


class DeploymentForm(StyledForm):
    system = forms.ModelChoiceField(System.objects.none(), empty_label="Choose the system")
    environment = forms.ModelChoiceField(Environment.objects.none(), empty_label="Choose the environment")
    version = forms.CharField(max_length=MAX_VERSION_LENGTH, help_text="As the build names it, e.g. 4.2.0 or a1b2c3d.")
    deployed_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput(),
        label="Deployed at",
        help_text="In the site's time zone; leave empty for now.",
    )
    outcome = forms.ChoiceField(choices=DeploymentOutcome.choices, initial=DeploymentOutcome.SUCCEEDED)
    source = forms.ChoiceField(choices=DeploymentSource.choices, initial=DeploymentSource.MANUAL)
    release = forms.ModelChoiceField(Release.objects.none(), required=False, empty_label="No release")
    change_reference = forms.CharField(required=False, max_length=50, help_text="The change request, e.g. CHG0042.")
    external_id = forms.CharField(
        required=False, max_length=100, label="External id", help_text="The pipeline run or job that did it."
    )
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, environments, systems, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments
        self.fields["system"].queryset = systems
        self.fields["release"].queryset = releases


class VersionMatrixFilterForm(StyledForm):
    type = forms.ChoiceField(choices=[("", "Any type"), *EnvironmentType.choices], required=False, label="")
    group = forms.ModelChoiceField(EnvironmentGroup.objects.none(), required=False, empty_label="Any group", label="")
    release = forms.ModelChoiceField(
        Release.objects.none(), required=False, empty_label="No release (drift from production)", label=""
    )
    drift_only = forms.BooleanField(required=False, label="Only systems that drift")

    def __init__(self, *args, groups, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.fields["release"].queryset = releases


# Schedule, utilisation and demand


SCHEDULE_GROUP_BY_CHOICES = [("group", "Group (lane)"), ("type", "Environment type"), ("environment", "No grouping")]
NO_GROUP_CHOICE = ("-", "No group")


class _EnvironmentWindowFilterForm(StyledForm):
    """A window of days (both ends, one end and the default length, or the default window), a type and a group."""

    environment_type = forms.ChoiceField(
        choices=[("", "Every type"), *EnvironmentType.choices], required=False, label="Type"
    )
    group = forms.ChoiceField(required=False, label="Group")
    start = forms.DateField(required=False, widget=DateInput(), label="From")
    end = forms.DateField(required=False, widget=DateInput(), label="To")

    def __init__(self, *args, groups, default: tuple[datetime.date, datetime.date], **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default
        self.fields["group"].choices = [
            ("", "Every group"),
            *((str(pk), name) for pk, name in groups),
            NO_GROUP_CHOICE,
        ]

    def clean_start(self):
        return plausible_day(self.cleaned_data.get("start"))

    def clean_end(self):
        return plausible_day(self.cleaned_data.get("end"))

    def clean(self):
        """Fill in the window; whether it makes sense (its end after its start, not too long) is the selector's."""
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        data["start"], data["end"] = fill_window(data.get("start"), data.get("end"), self.default)
        return data


class ScheduleFilterForm(_EnvironmentWindowFilterForm):
    """What the environment schedule shows: how rows are grouped, which environments, and the window."""

    group_by = forms.ChoiceField(choices=SCHEDULE_GROUP_BY_CHOICES, required=False, label="Group by")
    field_order = ["group_by", "environment_type", "group", "start", "end"]

    def clean(self):
        data = super().clean()
        data["group_by"] = data.get("group_by") or "group"
        return data


class UtilisationFilterForm(_EnvironmentWindowFilterForm):
    """Which environments and weeks the utilisation covers."""


DEMAND_WEEKS_CHOICES = [(13, "13 weeks"), (26, "26 weeks"), (52, "52 weeks")]


class DemandFilterForm(StyledForm):
    """From which week and for how many weeks demand and supply are compared."""

    start = forms.DateField(required=False, widget=DateInput(), label="From week of")
    weeks = forms.TypedChoiceField(choices=DEMAND_WEEKS_CHOICES, coerce=int, required=False, empty_value=26)

    def clean_start(self):
        return plausible_day(self.cleaned_data.get("start"))
