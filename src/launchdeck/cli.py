"""The `launchdeck` command: `serve`, `demo`, `user`, `token`, `bench`, and every Django management command.

Each command runs inside an audit context with source `cli`, so what it changes is attributed to the operator.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchdeck.config.settings")
    if not argv or argv in (["-h"], ["--help"]):
        print(USAGE)
        return
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from launchdeck.audit.context import audit_context, default_operator

    with audit_context("cli", operator=default_operator()):
        execute_from_command_line(["launchdeck", *argv])


USAGE = """Launchdeck — enterprise release management.

Usage: launchdeck <command> [options]     (launchdeck <command> --help for each)

  serve                     serve the app with gunicorn (default http://127.0.0.1:8000)
  demo --preset demo|enterprise [--seed N] [--if-empty]
                            load deterministic demo data
  user create|list|set-roles|set-password|unlock
                            manage people who sign in
  token create --user NAME [--name TEXT] [--expires DAYS]
  token list [--user NAME]  token revoke ID
                            manage API bearer tokens
  import FILE [--dataset X] [--apply]
                            import a CSV or XLSX file (a dry run unless --apply)
  export [--dataset X ...] [--format csv|xlsx] [-o FILE]
                            export data as a spreadsheet
  deployment record --system NAME --environment NAME --version V [--server URL --token T]
                            record a deployment (from a CI pipeline): locally or via the API
  bench [NAME ...]          run the benchmarks in ./benchmarks
  migrate, check, shell, collectstatic, ...
                            every Django management command
"""
