"""Import of 10,000 system rows from a CSV file: dry run and apply, with time and memory.

Data: the demo preset's teams, and a generated CSV of 10,000 new systems owned by them. Target: under 30 s.
Memory is reported as the growth of the process's peak resident size during each step, next to the file's size.
"""

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, setup

ROWS = 10_000


def main() -> None:
    setup(__doc__.splitlines()[0])
    from launchdeck.demo.generator import load_demo
    from launchdeck.integrations import services, tabular
    from launchdeck.org.models import Team

    load_demo(preset="demo", seed=1)
    teams = list(Team.objects.values_list("name", flat=True))
    header = ["name", "owner_team", "kind", "tier", "lifecycle", "description", "external_ids"]
    rows = (
        [f"Imported System {n:05d}", teams[n % len(teams)], "application", 1 + n % 4, "live", "", f"cmdb=CI9{n:05d}"]
        for n in range(ROWS)
    )
    content = tabular.write_csv(header, rows)
    print(f"data: {ROWS:,} system rows, {len(content) / 1024 / 1024:.2f} MB CSV; {machine()}")
    for label, step in (("dry run", "preview"), ("apply", "apply")):
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        if step == "preview":
            batch = services.import_preview(actor=None, file_name="systems.csv", content=content, dataset="systems")
        else:
            services.import_apply(actor=None, batch=batch)
        elapsed = time.perf_counter() - started
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
        print(
            f"import {ROWS:,} systems, {label:<8} {elapsed:6.1f} s   peak memory grew by {growth:6.1f} MB"
            f"   ({batch.report['summary']})"
        )


if __name__ == "__main__":
    main()
