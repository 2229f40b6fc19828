"""Laying a release template out on a working calendar: the dates its phases, milestones and gates fall on.

Used by `release_create` and by the template page's preview; three queries whatever the template's size.
"""

from dataclasses import dataclass
from datetime import date

from launchdeck.releases.choices import MilestoneAnchor
from launchdeck.scheduling.calendar import WorkingCalendar


@dataclass(frozen=True)
class PlannedPhase:
    template: object
    start: date
    end: date


@dataclass(frozen=True)
class PlannedMilestone:
    template: object
    date: date


@dataclass(frozen=True)
class PlannedGate:
    template: object
    due_date: date


@dataclass(frozen=True)
class Layout:
    """Where everything of a template falls for a release starting on a given day; `end` is its last phase's end."""

    phases: list[PlannedPhase]
    milestones: list[PlannedMilestone]
    gates: list[PlannedGate]
    end: date


def template_layout(template, start: date, calendar: WorkingCalendar) -> Layout:
    """Dates for every phase, milestone and gate of `template` for a release starting on `start`.

    A phase starts `start_offset_days` working days after the release's start (a start on a non-working day rolls
    forward first) and lasts `duration_days` working days; a milestone falls `offset_days` working days from the
    start or end of its phase; a gate is due at its phase's end, or at the end of the release.
    """
    phases = []
    by_phase: dict[int, PlannedPhase] = {}
    for phase_template in template.phases.order_by("position"):
        first = calendar.add_working_days(start, phase_template.start_offset_days)
        planned = PlannedPhase(phase_template, first, calendar.working_end(first, phase_template.duration_days))
        phases.append(planned)
        by_phase[phase_template.pk] = planned
    end = max((phase.end for phase in phases), default=start)
    milestones = []
    for milestone_template in template.milestones.order_by("phase__position", "offset_days", "name"):
        phase = by_phase.get(milestone_template.phase_id)
        if phase is None:
            continue
        anchor = phase.start if milestone_template.anchor == MilestoneAnchor.PHASE_START else phase.end
        milestones.append(
            PlannedMilestone(milestone_template, calendar.add_working_days(anchor, milestone_template.offset_days))
        )
    gates = []
    for gate_template in template.gates.order_by("name"):
        phase = by_phase.get(gate_template.phase_id) if gate_template.phase_id else None
        gates.append(PlannedGate(gate_template, phase.end if phase else end))
    milestones.sort(key=lambda milestone: milestone.date)
    gates.sort(key=lambda gate: (gate.due_date, gate.template.name))
    return Layout(phases=phases, milestones=milestones, gates=gates, end=end)
