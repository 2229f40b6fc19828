"""The registry of automatic gate checks, and the one evaluation of a gate: which criteria hold, who must approve.

Apps higher up (quality, environments, changes) register their own checks from their `AppConfig.ready()`; this app
registers the built-in ones. A check is a function of the gate answering `CheckResult(ok, detail)`.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

from launchdeck.accounts.roles import roles_may_write
from launchdeck.releases.choices import (
    GATE_MET_STATUSES,
    ApprovalDecision,
    CriterionKind,
    GateStatus,
    PhaseStatus,
    ReleaseKind,
    ReleaseStatus,
)


@dataclass(frozen=True)
class CheckResult:
    """What an automatic check found: whether it holds, and a sentence saying why (or why not)."""

    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class GateCheck:
    """A registered automatic check; `per_release` when its answer depends only on the gate's release, so the
    gates of one release share one run of it (`evaluate_gates`)."""

    key: str
    label: str
    function: Callable[..., CheckResult]
    per_release: bool = False


@dataclass
class GateEvaluation:
    """A gate's state: the criteria that do not hold (as sentences), each criterion's result, roles yet to approve."""

    unmet: list[str] = field(default_factory=list)
    criteria: list[tuple] = field(default_factory=list)
    approvals_missing: list[str] = field(default_factory=list)

    @property
    def criteria_met(self) -> bool:
        return not self.unmet


_REGISTRY: dict[str, GateCheck] = {}


def register_gate_check(
    key: str, label: str, function: Callable[..., CheckResult], *, per_release: bool = False
) -> None:
    """Make an automatic check available to gates and gate templates under `key` (registering again replaces it).

    `per_release`: the check answers the same for every gate of a release (it reads only `gate.release`)."""
    if not key or len(key) > 60:
        raise ValueError("A gate check key is 1 to 60 characters.")
    _REGISTRY[key] = GateCheck(key=key, label=label, function=function, per_release=per_release)


def gate_checks() -> dict[str, GateCheck]:
    """Every registered check by key."""
    return dict(_REGISTRY)


def check_label(key: str) -> str:
    check = _REGISTRY.get(key)
    return check.label if check else key


def run_check(key: str, gate, *, memo: dict | None = None) -> CheckResult:
    """Run one check on a gate; an unknown key (its app removed) never passes. With `memo`, a per-release check's
    answer is kept there and reused for the other gates of the same release."""
    check = _REGISTRY.get(key)
    if check is None:
        return CheckResult(False, f"The check {key!r} is not available.")
    if memo is None or not check.per_release:
        return check.function(gate)
    cached = memo.get((key, gate.release_id))
    if cached is None:
        cached = memo[(key, gate.release_id)] = check.function(gate)
    return cached


def evaluate_gates(gates) -> dict[int, GateEvaluation]:
    """`evaluate_gate` of each of `gates` by gate id, each per-release check run once per release (a release page
    evaluates all its gates with this, once, and passes the result on)."""
    memo: dict = {}
    return {gate.pk: evaluate_gate(gate, memo=memo) for gate in gates}


def evaluate_gate(gate, *, memo: dict | None = None) -> GateEvaluation:
    """Which of the gate's criteria hold (checklist items ticked, automatic checks passing) and which approver
    roles have not approved yet. Automatic checks run live on an open gate; on a decided one they read as recorded
    when it was decided (`record_check_results`). `memo`: see `run_check`."""
    evaluation = GateEvaluation()
    decided = gate.status != GateStatus.OPEN
    for criterion in gate.criteria.all():
        if criterion.kind == CriterionKind.AUTOMATIC and decided:
            # A decided gate is history: its checks read as they stood when it was decided, not as they run today.
            ok, detail = criterion.is_met, "Held when the gate was decided" if criterion.is_met else "Did not hold"
            if not ok:
                evaluation.unmet.append(f"{criterion.text}: {detail.lower()}")
        elif criterion.kind == CriterionKind.AUTOMATIC:
            result = run_check(criterion.check_key, gate, memo=memo)
            ok, detail = result.ok, result.detail
            if not ok:
                evaluation.unmet.append(f"{criterion.text}: {detail}" if detail else criterion.text)
        else:
            ok, detail = criterion.is_met, ("Ticked" if criterion.is_met else "Not ticked")
            if not ok:
                evaluation.unmet.append(f"{criterion.text} (not ticked)")
        evaluation.criteria.append((criterion, ok, detail))
    approved = {approval.role for approval in gate.approvals.all() if approval.decision == ApprovalDecision.APPROVED}
    evaluation.approvals_missing = [role for role in gate.approver_roles or () if role not in approved]
    return evaluation


def gate_decidable_roles(user, gate) -> list[str]:
    """THE rule for who may decide a gate: the approver roles of an open gate that `user` holds, whose roles may
    write at all, and that no one has decided in yet — none once `user` has decided in any role.

    Reads `gate.approvals.all()` (prefetch it for a page of gates). The gate page offers these roles; the decision
    service refuses any other.
    """
    if gate.status != GateStatus.OPEN or user is None or not getattr(user, "is_authenticated", False):
        return []
    if not user.is_active:
        return []
    held = set(getattr(user, "roles", ()) or ())
    if not held or not roles_may_write(held):
        return []
    approvals = list(gate.approvals.all())
    if any(approval.approver_id == user.pk for approval in approvals):
        return []
    decided = {approval.role for approval in approvals}
    return [role for role in gate.approver_roles or () if role in held and role not in decided]


def record_check_results(gate, *, at) -> None:
    """Keep what each automatic check said at the moment `gate` is decided, so its history does not change later."""
    for criterion in gate.criteria.all():
        if criterion.kind == CriterionKind.AUTOMATIC:
            criterion.is_met = run_check(criterion.check_key, gate).ok
            criterion.met_at = at
            criterion.save(update_fields=["is_met", "met_at"])


# Built-in checks


def children_passed(gate) -> CheckResult:
    """For a train: every child's matching gate (same template, else same name) is passed or overridden.

    A child's gate matches by template when this gate comes from one and the child has a gate from that template;
    otherwise (no template here, or none of the child's gates from it) by name, ignoring case. Children with no
    matching gate are not counted, and the detail says so.
    """
    from launchdeck.releases.models import Gate

    release = gate.release
    if release.kind != ReleaseKind.ENTERPRISE:
        return CheckResult(True, "No child releases")
    children = {
        child.pk: child.name for child in release.children.exclude(status=ReleaseStatus.CANCELLED).order_by("name")
    }
    if not children:
        return CheckResult(True, "No child releases")
    candidates = Gate.objects.filter(release_id__in=list(children))
    if gate.template_id:
        candidates = candidates.filter(Q(template_id=gate.template_id) | Q(name__iexact=gate.name))
    else:
        candidates = candidates.filter(name__iexact=gate.name)
    by_template: dict[int, list[str]] = defaultdict(list)
    by_name: dict[int, list[str]] = defaultdict(list)
    for release_id, template_id, name, status in candidates.values_list("release_id", "template_id", "name", "status"):
        if gate.template_id and template_id == gate.template_id:
            by_template[release_id].append(status)
        if name.lower() == gate.name.lower():
            by_name[release_id].append(status)
    matched = {
        release_id: by_template[release_id] if release_id in by_template else by_name[release_id]
        for release_id in children
        if release_id in by_template or release_id in by_name
    }
    without = len(children) - len(matched)
    not_counted = ""
    if without:
        noun, verb = ("child release", "is") if without == 1 else ("child releases", "are")
        not_counted = f" {without} {noun} without such a gate {verb} not counted."
    waiting = sorted(
        children[release_id]
        for release_id, statuses in matched.items()
        if any(status not in GATE_MET_STATUSES for status in statuses)
    )
    if waiting:
        return CheckResult(False, "Not passed yet in " + ", ".join(waiting) + "." + not_counted)
    return CheckResult(True, "Every child release with this gate has passed it." + not_counted)


def required_phases_dated(gate) -> CheckResult:
    """Every required phase is planned: present in the release and not skipped (the template's required phases for a
    release made from one, else the release's phases marked required). Phases always have dates, so dates are not
    checked; the key keeps its old name because gates store it."""
    release = gate.release
    phases = list(release.phases.all())
    missing = []
    if release.template_id:
        for template in release.template.phases.filter(is_required=True).order_by("position"):
            phase = next((p for p in phases if p.template_id == template.pk), None) or next(
                (p for p in phases if p.template_id is None and p.kind == template.kind), None
            )
            if phase is None:
                missing.append(f"{template.name} is missing")
            elif phase.status == PhaseStatus.SKIPPED:
                missing.append(f"{phase.name} is skipped")
    else:
        missing = [
            f"{phase.name} is skipped" for phase in phases if phase.is_required and phase.status == PhaseStatus.SKIPPED
        ]
    if missing:
        return CheckResult(False, "; ".join(missing) + ".")
    return CheckResult(True, "Every required phase is planned.")


def no_milestone_in_freeze(gate) -> CheckResult:
    """No deploy milestone of the release falls inside a deployment freeze that covers it."""
    from launchdeck.releases.freezes import deploy_milestones_in_freeze
    from launchdeck.releases.models import Milestone

    flagged = deploy_milestones_in_freeze([gate.release_id]).get(gate.release_id, [])
    if not flagged:
        return CheckResult(True, "No deploy milestone is inside a freeze.")
    names = dict(Milestone.objects.filter(pk__in=[pk for pk, _ in flagged]).values_list("pk", "name"))
    return CheckResult(False, "; ".join(f"{names.get(pk, pk)} is inside {freeze}" for pk, freeze in flagged) + ".")


def register_builtin_checks() -> None:
    """Register the checks this app provides."""
    register_gate_check("children_passed", "All child releases passed this gate", children_passed)
    register_gate_check(
        "required_phases_dated", "All required phases are planned", required_phases_dated, per_release=True
    )
    register_gate_check(
        "no_milestone_in_freeze", "No deploy milestone inside a freeze", no_milestone_in_freeze, per_release=True
    )
