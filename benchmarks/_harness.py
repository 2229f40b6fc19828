"""Shared set-up for benchmark scripts: a fresh database, Django configured, and a timing helper."""

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable


def setup(description: str) -> argparse.Namespace:
    """Parse the common options, point Launchdeck at a fresh database and set Django up."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", help="Database to use (default: a new SQLite file in a temporary folder).")
    parser.add_argument("--runs", type=int, default=50, help="Timed repetitions after warm-up.")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="launchdeck-bench-")
    os.environ["LAUNCHDECK_DATABASE_URL"] = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    os.environ["LAUNCHDECK_DATA_DIR"] = folder
    os.environ.setdefault("LAUNCHDECK_SECRET_KEY", "benchmark-only-secret-key-0123456789-abcdefghij")
    # Measured as served in production: DEBUG off (with it on, Django also records every query it runs).
    os.environ["LAUNCHDECK_DEBUG"] = "0"
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collected static files here
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchdeck.config.settings")
    os.environ["LAUNCHDECK_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["LAUNCHDECK_LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return args


def measure(label: str, call: Callable[[], object], *, runs: int, warmup: int = 5) -> dict:
    """Time `call` `runs` times after `warmup` untimed calls; print and return median and P95 in milliseconds."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    result = {
        "benchmark": label,
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 2),
        "runs": runs,
    }
    print(f"{label:<48} median {result['median_ms']:>8.2f} ms   p95 {result['p95_ms']:>8.2f} ms   ({runs} runs)")
    return result


def machine() -> str:
    from django.db import connection

    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {connection.vendor}"
