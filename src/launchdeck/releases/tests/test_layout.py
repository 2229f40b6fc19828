"""Laying a template out on a working calendar: phases by working-day offsets, milestones from anchors, gates due."""

import datetime
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import CalendarClosure
from launchdeck.org.tests.factories import CalendarFactory
from launchdeck.releases.choices import MilestoneAnchor, PhaseKind
from launchdeck.releases.layout import template_layout
from launchdeck.releases.tests.factories import (
    GateTemplateFactory,
    MilestoneTemplateFactory,
    PhaseTemplateFactory,
    ReleaseTemplateFactory,
)
from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar

MON = datetime.date(2026, 3, 2)
D = datetime.date


@pytest.fixture
def template(db):
    template = ReleaseTemplateFactory(name="Standard")
    build = PhaseTemplateFactory(template=template, position=1, name="Build", kind=PhaseKind.BUILD, duration_days=10)
    sit = PhaseTemplateFactory(
        template=template, position=2, name="SIT", kind=PhaseKind.SIT, start_offset_days=10, duration_days=5
    )
    MilestoneTemplateFactory(template=template, phase=build, name="Code freeze", anchor=MilestoneAnchor.PHASE_END)
    MilestoneTemplateFactory(template=template, phase=sit, name="Deploy", offset_days=2)
    MilestoneTemplateFactory(
        template=template, phase=sit, name="SIT kick-off", anchor=MilestoneAnchor.PHASE_START, offset_days=-1
    )
    GateTemplateFactory(template=template, phase=sit, name="SIT exit")
    GateTemplateFactory(template=template, phase=None, name="Go-live")
    return template


def by_name(items, attribute="template"):
    return {getattr(item, attribute).name: item for item in items}


def test_phases_start_by_working_day_offsets_and_last_their_duration(template):
    layout = template_layout(template, MON, STANDARD)
    phases = by_name(layout.phases)
    assert [phase.template.name for phase in layout.phases] == ["Build", "SIT"]
    assert (phases["Build"].start, phases["Build"].end) == (MON, D(2026, 3, 13))
    assert (phases["SIT"].start, phases["SIT"].end) == (D(2026, 3, 16), D(2026, 3, 20))
    assert layout.end == D(2026, 3, 20)


def test_milestones_fall_at_their_anchor_plus_working_days(template):
    milestones = {m.template.name: m.date for m in template_layout(template, MON, STANDARD).milestones}
    assert milestones == {
        "Code freeze": D(2026, 3, 13),
        "SIT kick-off": D(2026, 3, 13),  # one working day before Monday 16 March: the Friday
        "Deploy": D(2026, 3, 24),  # two working days after Friday 20 March
    }


def test_gates_are_due_at_their_phase_end_or_the_end_of_the_release(template):
    gates = {gate.template.name: gate.due_date for gate in template_layout(template, MON, STANDARD).gates}
    assert gates == {"SIT exit": D(2026, 3, 20), "Go-live": D(2026, 3, 20)}


def test_a_start_on_a_weekend_rolls_forward_to_monday(template):
    layout = template_layout(template, D(2026, 2, 28), STANDARD)
    assert layout.phases[0].start == MON
    assert layout.end == D(2026, 3, 20)


def test_closures_and_holidays_of_the_release_calendar_push_the_dates(template):
    calendar = CalendarFactory()
    CalendarClosure.objects.create(calendar=calendar, name="Offsite", start=D(2026, 3, 9), end=D(2026, 3, 13))
    layout = template_layout(template, MON, working_calendar(calendar))
    phases = by_name(layout.phases)
    assert (phases["Build"].start, phases["Build"].end) == (MON, D(2026, 3, 20))
    assert phases["SIT"].start == D(2026, 3, 23)
    assert layout.end == D(2026, 3, 27)


def test_a_country_calendar_skips_public_holidays(template):
    # Good Friday 3 April and Easter Monday 6 April 2026 in England
    calendar = WorkingCalendar(country="GB", subdivision="ENG")
    layout = template_layout(template, D(2026, 3, 30), calendar)
    build = by_name(layout.phases)["Build"]
    assert (build.start, build.end) == (D(2026, 3, 30), D(2026, 4, 14))


def test_parallel_phases_end_at_the_latest(db):
    template = ReleaseTemplateFactory()
    PhaseTemplateFactory(template=template, position=1, duration_days=20)
    PhaseTemplateFactory(template=template, position=2, start_offset_days=2, duration_days=3)
    layout = template_layout(template, MON, STANDARD)
    assert layout.end == D(2026, 3, 27)


def test_an_empty_template_ends_where_it_starts(db):
    layout = template_layout(ReleaseTemplateFactory(), MON, STANDARD)
    assert (layout.phases, layout.milestones, layout.gates, layout.end) == ([], [], [], MON)


def test_the_layout_takes_three_queries_whatever_the_template_size(db, django_assert_num_queries):
    template = ReleaseTemplateFactory()
    for position in range(1, 9):
        phase = PhaseTemplateFactory(template=template, position=position, start_offset_days=position * 5)
        MilestoneTemplateFactory(template=template, phase=phase)
        GateTemplateFactory(template=template, phase=phase)
    with django_assert_num_queries(3):
        layout = template_layout(template, MON, STANDARD)
    assert (len(layout.phases), len(layout.milestones), len(layout.gates)) == (8, 8, 8)


# Properties, on plain stand-ins for the template rows (the layout only reads their attributes)


class _Rows(list):
    def order_by(self, *fields):
        return self


def _fake_template(phases):
    rows = _Rows(
        SimpleNamespace(pk=index, name=f"P{index}", position=index, start_offset_days=offset, duration_days=duration)
        for index, (offset, duration) in enumerate(phases, start=1)
    )
    milestones = _Rows(
        SimpleNamespace(pk=index, name=f"M{index}", phase_id=index, anchor="end", offset_days=0)
        for index in range(1, len(phases) + 1)
    )
    gates = _Rows([SimpleNamespace(pk=1, name="G", phase_id=None)])
    return SimpleNamespace(phases=rows, milestones=milestones, gates=gates)


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)),
    phases=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 40)), min_size=1, max_size=6),
    weekend=st.sampled_from([frozenset({5, 6}), frozenset({4, 5}), frozenset({6})]),
)
def test_every_phase_is_on_working_days_and_lasts_exactly_its_duration(start, phases, weekend):
    calendar = WorkingCalendar(weekend=weekend)
    layout = template_layout(_fake_template(phases), start, calendar)
    first_working = calendar.next_working_day(start)
    for planned, (offset, duration) in zip(layout.phases, phases, strict=True):
        assert calendar.is_working_day(planned.start) and calendar.is_working_day(planned.end)
        assert calendar.working_days_between(first_working, planned.start) == offset
        assert calendar.working_days_in(planned.start, planned.end) == duration
    assert layout.end == max(planned.end for planned in layout.phases)
    assert layout.gates[0].due_date == layout.end
    assert all(m.date <= layout.end for m in layout.milestones)
