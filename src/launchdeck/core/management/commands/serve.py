import os
import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Launchdeck with gunicorn, a production-grade WSGI server (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("LAUNCHDECK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("LAUNCHDECK_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("LAUNCHDECK_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("LAUNCHDECK_THREADS", "4")))

    def handle(self, *args, host, port, workers, threads, **options):
        if not 1 <= port <= 65535:
            raise CommandError("--port must be between 1 and 65535.")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        executable = str(gunicorn) if gunicorn.exists() else shutil.which("gunicorn")
        if executable is None:
            raise CommandError("gunicorn is not installed in this environment.")
        command = [
            executable,
            "launchdeck.config.wsgi:application",
            f"--bind={host}:{port}",
            f"--workers={max(1, workers)}",
            f"--threads={max(1, threads)}",
            "--access-logfile=-",
            "--forwarded-allow-ips=127.0.0.1",
        ]
        self.stdout.write(f"Launchdeck is served on http://{host}:{port}/  (Ctrl+C stops it)")
        self.stdout.flush()
        os.execv(executable, command)
