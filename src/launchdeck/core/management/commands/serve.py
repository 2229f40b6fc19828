import os
import shutil
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from launchdeck.core.env import env_int, env_str


class Command(BaseCommand):
    help = "Serve Launchdeck with gunicorn, a production-grade WSGI server (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="Address to listen on (LAUNCHDECK_HOST, default 127.0.0.1).")
        parser.add_argument("--port", type=int, help="Port (LAUNCHDECK_PORT, default 8000).")
        parser.add_argument("--workers", type=int, help="Worker processes (LAUNCHDECK_WORKERS, default 2).")
        parser.add_argument("--threads", type=int, help="Threads per worker (LAUNCHDECK_THREADS, default 4).")

    def handle(self, *args, host, port, workers, threads, **options):
        try:
            host = host or env_str("HOST", "127.0.0.1")
            port = port if port is not None else env_int("PORT", 8000, minimum=1, maximum=65535)
            workers = workers if workers is not None else env_int("WORKERS", 2, minimum=1, maximum=64)
            threads = threads if threads is not None else env_int("THREADS", 4, minimum=1, maximum=64)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
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
