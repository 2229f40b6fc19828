"""Monte Carlo forecast of a train of 2,000 items: 10,000 runs (target under 2 s).

Data: a generated, deterministic train plan on the standard calendar, laid out the way the app lays out a train: one
train release with 8 phases and 99 child releases, each a release item, its hidden finish point, 8 phases (most
finish-to-start, some overlapping start-to-start), 9 milestones (the last a deployment, postponed past quarter-end
freezes when pushed into one) and a gate: 2,000 items in all. Its implicit dependencies (release -> first phase,
phase -> phase, phase -> milestone and gate, last phase -> finish, train -> child, child finish -> train finish, train
phase -> linked child phases) plus cross-release finish-to-start and start-to-start dependencies that the plan meets
with some slack make 3,000. Every phase has 30 to 60 historical actual/planned ratios drawn from a log-normal spread
for its kind (median 1.0 to 1.25); a few first phases have started (fixed). The script needs no database: the
forecast is pure Python and numpy.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import measure

from launchdeck.scheduling.calendar import STANDARD
from launchdeck.scheduling.engine import Dependency, Item
from launchdeck.scheduling.forecast import monte_carlo

CHILDREN = 99
# Median ratio and log-normal spread per phase kind, in phase order: building and testing overrun more, and vary more.
SPREAD = {
    "design": (1.05, 0.15),
    "build": (1.2, 0.3),
    "integrate": (1.15, 0.25),
    "sit": (1.25, 0.35),
    "uat": (1.1, 0.2),
    "performance": (1.1, 0.2),
    "cutover": (1.0, 0.1),
    "hypercare": (1.0, 0.1),
}
TRAIN_START = date(2027, 1, 4)  # a Monday
# Deployment freezes around each quarter's end: a deployment pushed into one is postponed past it.
FREEZES = (
    (date(2027, 3, 24), date(2027, 4, 2)),
    (date(2027, 6, 24), date(2027, 7, 2)),
    (date(2027, 9, 23), date(2027, 10, 1)),
    (date(2027, 12, 17), date(2028, 1, 4)),
)
RUNS = 10_000


def train_plan(seed: int = 1) -> tuple[list[Item], list[Dependency], dict[str, list[float]]]:
    """Items, dependencies and ratios of one generated train; the same for the same seed."""
    rng = np.random.default_rng(seed)
    cal = STANDARD
    items: list[Item] = []
    deps: list[Dependency] = []
    ratios: dict[str, list[float]] = {}
    phases: dict[str, Item] = {}

    def add(item: Item) -> Item:
        items.append(item)
        return item

    def release(name: str, start: date, linked: list[Item] | None, fixed_first: bool) -> list[Item]:
        """A release with 8 phases, 9 milestones and a gate, from `start`; returns its phases."""
        own: list[Item] = []
        day = start
        for position, kind in enumerate(SPREAD):
            length = int(rng.integers(5, 26))
            if own and rng.random() < 0.2:  # overlaps the previous phase: start-to-start
                lag = int(rng.integers(1, 4))
                day = cal.add_working_days(own[-1].start, lag)
                link = Dependency(own[-1].key, f"phase:{name}.{position}", "SS", lag)
            elif own:
                day = cal.add_working_days(own[-1].end, 1 + int(rng.integers(0, 3)))
                link = Dependency(own[-1].key, f"phase:{name}.{position}", "FS")
            else:
                link = None
            offset = -1 if linked is None else cal.working_days_between(linked[position].start, day)
            if offset >= 0:  # inherits the train's phase: never before it, the offset is the lag
                deps.append(Dependency(linked[position].key, f"phase:{name}.{position}", "SS", offset))
            fixed = fixed_first and position == 0
            phase = add(Item(f"phase:{name}.{position}", day, cal.working_end(day, length), cal, fixed))
            phases[phase.key] = phase
            if link is not None:
                deps.append(link)
            median, sigma = SPREAD[kind]
            ratios[phase.key] = np.round(rng.lognormal(np.log(median), sigma, int(rng.integers(30, 61))), 3).tolist()
            own.append(phase)
        for number in range(9):
            phase = own[6] if number == 8 else own[number]  # the last, the deployment, at the end of the cutover
            if number % 2:  # anchored at the phase start
                offset = int(rng.integers(0, 5))
                day = cal.add_working_days(phase.start, offset)
                deps.append(Dependency(phase.key, f"milestone:{name}.{number}", "SS", offset))
            else:  # at the phase end, or a little before
                offset = -int(rng.integers(0, 3))
                day = cal.add_working_days(phase.end, offset)
                deps.append(Dependency(phase.key, f"milestone:{name}.{number}", "FF", offset))
            blackouts = FREEZES if number == 8 else ()
            add(Item(f"milestone:{name}.{number}", day, day, cal, blackouts=blackouts))
        gate_phase = own[3]
        add(Item(f"gate:{name}", gate_phase.end, gate_phase.end, cal))
        deps.append(Dependency(gate_phase.key, f"gate:{name}", "FF"))
        return own

    def close(name: str, start: date, own: list[Item], end: date) -> None:
        """The release item spanning its contents and its finish point."""
        add(Item(f"release:{name}", start, end, cal))
        add(Item(f"finish:{name}", end, end, cal))
        deps.append(Dependency(f"release:{name}", f"finish:{name}", "FF"))
        deps.append(Dependency(f"release:{name}", own[0].key, "SS", cal.working_days_between(start, own[0].start)))
        deps.append(Dependency(own[-1].key, f"finish:{name}", "FF"))

    train = release("train", TRAIN_START, None, False)
    train_end = max(phase.end for phase in train)
    for child in range(CHILDREN):
        offset = int(rng.integers(0, 15))
        start = cal.add_working_days(TRAIN_START, offset)
        own = release(f"c{child}", start, train, child < 5)
        end = max(phase.end for phase in own)
        close(f"c{child}", start, own, end)
        train_end = max(train_end, end)
        deps.append(Dependency("release:train", f"release:c{child}", "SS", offset))
        deps.append(Dependency(f"finish:c{child}", "finish:train", "FF"))
    close("train", TRAIN_START, train, train_end)  # the train ends when its last child does

    # Cross-release dependencies the plan meets (a lag within the slack), from earlier to later children only.
    keys = [key for key in phases if not key.startswith("phase:train")]
    wanted = 3_000 - len(deps)
    while wanted > 0:
        a, b = sorted(rng.choice(len(keys), size=2, replace=False))
        pred, succ = phases[keys[a]], phases[keys[b]]
        if pred.key.split(".")[0] == succ.key.split(".")[0] or succ.fixed:
            continue
        kind = "FS" if rng.random() < 0.7 else "SS"
        anchor = cal.add_working_days(pred.end, 1) if kind == "FS" else pred.start
        slack = cal.working_days_between(anchor, succ.start)
        if slack < 0:
            continue
        deps.append(Dependency(pred.key, succ.key, kind, int(rng.integers(0, min(slack, 5) + 1))))
        wanted -= 1
    return items, deps, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="Ignored: this benchmark needs no database.")
    parser.add_argument("--runs", type=int, default=7, help="Timed repetitions after warm-up (default 7).")
    args = parser.parse_args()

    items, deps, ratios = train_plan()
    samples = [len(values) for values in ratios.values()]
    print(
        f"data: {len(items):,} items ({len(ratios):,} phases with {min(samples)}-{max(samples)} ratios each, "
        f"{sum(item.fixed for item in items)} fixed), {len(deps):,} dependencies, {RUNS:,} runs; "
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    )
    forecast = monte_carlo(items, deps, ratios, runs=RUNS, seed=0)
    train = forecast["finish:train"]
    print(
        f"train finish: planned {train.planned_end}, P50 {train.p50}, P85 {train.p85}, "
        f"on time in {train.probability_on_time:.1%} of runs"
    )
    # Wall time as every benchmark reports it, and CPU time, which other work on the machine inflates less.
    cpu: list[float] = []

    def call() -> None:
        started = time.process_time()
        monte_carlo(items, deps, ratios, runs=RUNS, seed=0)
        cpu.append((time.process_time() - started) * 1000)

    measure(f"monte_carlo, {len(items):,} items, {RUNS:,} runs", call, runs=args.runs, warmup=1)
    print(f"{'  the same, CPU time of the process':<48} median {statistics.median(cpu[1:]):>8.2f} ms")


if __name__ == "__main__":
    main()
