"""factory_boy factories for release planning: rows made directly, for arranging tests (services are what is tested)."""

import contextlib
import datetime

import factory

from launchdeck.audit.models import AuditEvent
from launchdeck.releases.choices import (
    CriterionKind,
    DependencyKind,
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneAnchor,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)
from launchdeck.releases.models import (
    FreezeWindow,
    Gate,
    GateApproval,
    GateCriterion,
    GateTemplate,
    Milestone,
    MilestoneTemplate,
    Phase,
    PhaseTemplate,
    Release,
    ReleaseSystem,
    ReleaseTemplate,
    ScheduleChange,
    ScheduleDependency,
)

START = datetime.date(2026, 3, 2)  # a Monday
END = datetime.date(2026, 6, 26)  # a Friday


class ReleaseTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReleaseTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    description = ""
    release_kind = ReleaseKind.PROJECT
    is_active = True


class PhaseTemplateFactory(factory.django.DjangoModelFactory):
    """A ten-working-day build phase at the next position of a new template, starting at the release's start."""

    class Meta:
        model = PhaseTemplate

    template = factory.SubFactory(ReleaseTemplateFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Phase template {n}")
    kind = PhaseKind.BUILD
    start_offset_days = 0
    duration_days = 10
    environment_type = ""
    is_required = True


class MilestoneTemplateFactory(factory.django.DjangoModelFactory):
    """A milestone at the end of a new phase template (of the same template)."""

    class Meta:
        model = MilestoneTemplate

    phase = factory.SubFactory(PhaseTemplateFactory)
    template = factory.LazyAttribute(lambda milestone: milestone.phase.template)
    name = factory.Sequence(lambda n: f"Milestone template {n}")
    kind = MilestoneKind.OTHER
    anchor = MilestoneAnchor.PHASE_END
    offset_days = 0


class GateTemplateFactory(factory.django.DjangoModelFactory):
    """An end-of-release gate blocking `released`, approved by the release manager, no criteria."""

    class Meta:
        model = GateTemplate

    template = factory.SubFactory(ReleaseTemplateFactory)
    phase = None
    name = factory.Sequence(lambda n: f"Gate template {n}")
    blocks = ReleaseStatus.RELEASED
    approver_roles = factory.LazyFunction(lambda: ["release_manager"])
    checklist = factory.LazyFunction(list)
    checks = factory.LazyFunction(list)


class ReleaseFactory(factory.django.DjangoModelFactory):
    """A draft standalone project release from 2 March to 26 June 2026, on weekends only, without links."""

    class Meta:
        model = Release

    name = factory.Sequence(lambda n: f"Release {n}")
    kind = ReleaseKind.PROJECT
    status = ReleaseStatus.DRAFT
    train = None
    inherits_train_dates = False
    template = None
    owner = None
    portfolio = None
    initiative = None
    project = None
    calendar = None
    description = ""
    planned_start = START
    planned_end = END


class TrainFactory(ReleaseFactory):
    """An enterprise release (a train)."""

    kind = ReleaseKind.ENTERPRISE
    name = factory.Sequence(lambda n: f"Train {n}")


class ReleaseSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReleaseSystem

    release = factory.SubFactory(ReleaseFactory)
    system = factory.SubFactory("launchdeck.catalog.tests.factories.SystemFactory")
    impact = SystemImpact.IMPACTED
    target_version = ""


class PhaseFactory(factory.django.DjangoModelFactory):
    """A build phase over the first two weeks of its release (or from `planned_start`), within the release's end."""

    class Meta:
        model = Phase

    release = factory.SubFactory(ReleaseFactory)
    template = None
    train_phase = None
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Phase {n}")
    kind = PhaseKind.BUILD
    status = PhaseStatus.NOT_STARTED
    planned_start = factory.LazyAttribute(lambda phase: phase.release.planned_start)
    planned_end = factory.LazyAttribute(
        lambda phase: max(
            phase.planned_start, min(phase.release.planned_end, phase.planned_start + datetime.timedelta(days=11))
        )
    )
    percent_complete = 0
    environment_type = ""
    is_required = True


class MilestoneFactory(factory.django.DjangoModelFactory):
    """A milestone on the release's last day, in no phase."""

    class Meta:
        model = Milestone

    release = factory.SubFactory(ReleaseFactory)
    phase = None
    template = None
    name = factory.Sequence(lambda n: f"Milestone {n}")
    kind = MilestoneKind.OTHER
    planned_date = factory.LazyAttribute(lambda milestone: milestone.release.planned_end)


class GateFactory(factory.django.DjangoModelFactory):
    """An open gate blocking `released`, due on the release's last day, approved by the release manager."""

    class Meta:
        model = Gate

    release = factory.SubFactory(ReleaseFactory)
    phase = None
    template = None
    name = factory.Sequence(lambda n: f"Gate {n}")
    blocks = ReleaseStatus.RELEASED
    due_date = factory.LazyAttribute(lambda gate: gate.release.planned_end)
    approver_roles = factory.LazyFunction(lambda: ["release_manager"])
    status = GateStatus.OPEN


class GateCriterionFactory(factory.django.DjangoModelFactory):
    """An unticked checklist item."""

    class Meta:
        model = GateCriterion

    gate = factory.SubFactory(GateFactory)
    position = factory.Sequence(lambda n: n)
    kind = CriterionKind.MANUAL
    text = factory.Sequence(lambda n: f"Checklist item {n}")
    check_key = ""
    is_met = False


class GateApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateApproval

    gate = factory.SubFactory(GateFactory)
    role = "release_manager"
    approver = factory.SubFactory("launchdeck.accounts.tests.factories.UserFactory")
    decision = "approved"
    comment = ""
    decided_at = factory.LazyFunction(lambda: datetime.datetime(2026, 3, 2, 12, tzinfo=datetime.UTC))


class FreezeWindowFactory(factory.django.DjangoModelFactory):
    """An organisation-wide one-off deployment freeze over the last two weeks of 2026; `portfolios=[...]`,
    `systems=[...]` set its lists."""

    class Meta:
        model = FreezeWindow
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Freeze {n}")
    category = FreezeCategory.DEPLOYMENT
    scope = FreezeScope.ORGANISATION
    environment_types = factory.LazyFunction(list)
    starts_on = datetime.date(2026, 12, 18)
    ends_on = datetime.date(2026, 12, 31)
    recurrence = Recurrence.NONE
    recurs_until = None
    reason = ""

    @factory.post_generation
    def portfolios(self, create, extracted, **kwargs):
        if create and extracted:
            self.portfolios.set(extracted)

    @factory.post_generation
    def systems(self, create, extracted, **kwargs):
        if create and extracted:
            self.systems.set(extracted)


# Checks on what a service call wrote (plain context managers, usable from any test module)


def release_state() -> dict:
    """Every release-planning row, field by field (with the freeze windows' lists), and the number of audit events."""
    models = (
        ReleaseTemplate,
        PhaseTemplate,
        MilestoneTemplate,
        GateTemplate,
        Release,
        ReleaseSystem,
        Phase,
        Milestone,
        Gate,
        GateCriterion,
        GateApproval,
        FreezeWindow,
    )
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    rows["FreezeWindow.portfolios"] = list(FreezeWindow.portfolios.through.objects.order_by("pk").values())
    rows["FreezeWindow.systems"] = list(FreezeWindow.systems.through.objects.order_by("pk").values())
    return {**rows, "audit events": AuditEvent.objects.count()}


@contextlib.contextmanager
def unchanged():
    """`with unchanged(): ...` asserts the block left every release-planning row and the audit trail as they were."""
    before = release_state()
    yield
    assert release_state() == before


class Written:
    events: list[AuditEvent]

    @property
    def types(self) -> list[str]:
        return [event.event_type for event in self.events]

    @property
    def event(self) -> AuditEvent:
        assert len(self.events) == 1, self.types
        return self.events[0]


@contextlib.contextmanager
def events_written():
    """`with events_written() as written: ...` collects the audit events the block wrote (`written.types`)."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    written = Written()
    yield written
    written.events = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))


def _endpoint_key(release, phase, milestone) -> str:
    if phase is not None:
        return f"phase:{phase.pk}"
    if milestone is not None:
        return f"milestone:{milestone.pk}"
    return f"release:{release.pk}"


class ScheduleDependencyFactory(factory.django.DjangoModelFactory):
    """A finish-to-start dependency between two releases; pass phases or milestones (with their releases) to link
    those instead. The engine keys are worked out from the ends."""

    class Meta:
        model = ScheduleDependency

    predecessor_release = factory.SubFactory(ReleaseFactory)
    predecessor_phase = None
    predecessor_milestone = None
    successor_release = factory.SubFactory(ReleaseFactory)
    successor_phase = None
    successor_milestone = None
    predecessor_key = factory.LazyAttribute(
        lambda o: _endpoint_key(o.predecessor_release, o.predecessor_phase, o.predecessor_milestone)
    )
    successor_key = factory.LazyAttribute(
        lambda o: _endpoint_key(o.successor_release, o.successor_phase, o.successor_milestone)
    )
    kind = DependencyKind.FINISH_TO_START
    lag_days = 0
    note = ""


class ScheduleChangeFactory(factory.django.DjangoModelFactory):
    """A history entry: the release moved five working days later."""

    class Meta:
        model = ScheduleChange

    release = factory.SubFactory(ReleaseFactory)
    batch = factory.Faker("uuid4", cast_to=None)
    occurred_at = factory.LazyFunction(lambda: datetime.datetime(2026, 3, 9, 12, tzinfo=datetime.UTC))
    actor = None
    actor_name = "Release manager"
    reason = "Supplier delay"
    cause = ""
    old_start = START
    old_end = END
    new_start = START + datetime.timedelta(days=7)
    new_end = END + datetime.timedelta(days=7)
    start_shift_days = 5
    end_shift_days = 5
    items_moved = 0
