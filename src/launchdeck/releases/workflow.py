"""The release workflow: which status may follow which, the permission each move needs, and what blocks it.

draft → planned → in progress → released, and cancelled from any open status. A move is also blocked while a gate
that guards the target status is neither passed nor overridden, and a train is not released before its children.
`release_transition` in services applies a move; pages and the API ask here what to offer.
"""

from collections.abc import Mapping

from launchdeck.accounts.roles import role_label
from launchdeck.releases.checks import GateEvaluation, evaluate_gate
from launchdeck.releases.choices import CLOSED_STATUSES, GATE_MET_STATUSES, GateStatus, ReleaseKind, ReleaseStatus

DRAFT, PLANNED, IN_PROGRESS, RELEASED, CANCELLED = (
    ReleaseStatus.DRAFT,
    ReleaseStatus.PLANNED,
    ReleaseStatus.IN_PROGRESS,
    ReleaseStatus.RELEASED,
    ReleaseStatus.CANCELLED,
)

TRANSITIONS: dict[tuple[str, str], str] = {
    (DRAFT, PLANNED): "releases.plan_release",
    (PLANNED, IN_PROGRESS): "releases.start_release",
    (IN_PROGRESS, RELEASED): "releases.ship_release",
    (DRAFT, CANCELLED): "releases.cancel_release",
    (PLANNED, CANCELLED): "releases.cancel_release",
    (IN_PROGRESS, CANCELLED): "releases.cancel_release",
}

# What a move is called, in "Your roles may not <verb> a release" and in the audit event `release.<event>`.
VERBS = {PLANNED: "plan", IN_PROGRESS: "start", RELEASED: "ship", CANCELLED: "cancel"}
EVENTS = {PLANNED: "planned", IN_PROGRESS: "started", RELEASED: "released", CANCELLED: "cancelled"}


def status_label(status: str) -> str:
    return ReleaseStatus(status).label.lower() if status in ReleaseStatus.values else status


def transition_permission(from_status: str, to_status: str) -> str | None:
    """The permission a move needs, or None if the workflow has no such move."""
    return TRANSITIONS.get((from_status, to_status))


def may_transition(user, release, to_status: str) -> bool:
    """Whether `user`'s roles allow moving `release` to `to_status` now (gates aside). None is the operator."""
    permission = transition_permission(release.status, to_status)
    if permission is None:
        return False
    return user is None or (user.is_authenticated and user.is_active and user.has_perm(permission, release))


def allowed_transitions(user, release) -> list[str]:
    """The statuses `user` may move `release` to from where it is, gates aside (ask `transition_blockers` for those)."""
    return [to for (source, to) in TRANSITIONS if source == release.status and may_transition(user, release, to)]


def transition_blockers(
    release, to_status: str, *, evaluations: Mapping[int, GateEvaluation] | None = None
) -> list[str]:
    """Why `release` cannot move to `to_status` yet: one sentence per unmet gate (and, for a train being released,
    per child still open). Empty when nothing blocks it.

    `evaluations`: the release's gates already evaluated (`checks.evaluate_gates`, by gate id) by a page that shows
    them; the gates are then read from `release.gates.all()` (prefetched) and not evaluated again. Without it the
    gates are read and evaluated here (the transition service does so inside its transaction).
    """
    reasons = []
    if evaluations is None:
        gates = list(
            release.gates.filter(blocks=to_status)
            .exclude(status__in=GATE_MET_STATUSES)
            .select_related("release")
            .prefetch_related("criteria", "approvals")
            .order_by("due_date", "name")
        )
    else:
        gates = sorted(
            (gate for gate in release.gates.all() if gate.blocks == to_status and gate.status not in GATE_MET_STATUSES),
            key=lambda gate: (gate.due_date, gate.name),
        )
    for gate in gates:
        if gate.status == GateStatus.REJECTED:
            reasons.append(f"The gate {gate.name} was rejected; reopen it or override it.")
            continue
        evaluation = evaluations.get(gate.pk) if evaluations is not None else None
        if evaluation is None:
            evaluation = evaluate_gate(gate)
        parts = []
        if evaluation.unmet:
            parts.append("unmet: " + "; ".join(evaluation.unmet))
        if evaluation.approvals_missing:
            parts.append(
                "awaiting approval from " + ", ".join(role_label(role) for role in evaluation.approvals_missing)
            )
        if not parts:
            parts.append("not decided yet")
        reasons.append(f"The gate {gate.name} is not passed: " + "; ".join(parts).rstrip(".") + ".")
    if to_status == RELEASED and release.kind == ReleaseKind.ENTERPRISE:
        open_children = list(
            release.children.exclude(status__in=CLOSED_STATUSES).order_by("name").values_list("name", "status")
        )
        for name, status in open_children:
            reasons.append(f"The child release {name} is {status_label(status)}; release or cancel it first.")
    return reasons
