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
    if _records_on_a_server(argv):
        _record_on_a_server(argv)
        return
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from launchdeck.audit.context import audit_context, default_operator

    with audit_context("cli", operator=default_operator()):
        execute_from_command_line(["launchdeck", *argv])


def _records_on_a_server(argv: list[str]) -> bool:
    """Whether this is `deployment record` for a server's API: a pipeline runner's call, which needs nothing of this
    installation (no settings, no secret key, no database)."""
    if argv[:2] != ["deployment", "record"]:
        return False
    from django.core.management.base import CommandError

    from launchdeck.environments.management.commands.deployment import Command

    try:
        options = Command().create_parser("launchdeck", "deployment").parse_args(argv[1:])
    except CommandError:  # a usage mistake: shown as the command's parser shows it, without starting anything
        return bool(os.environ.get("LAUNCHDECK_SERVER")) or any(
            arg == "--server" or arg.startswith("--server=") for arg in argv
        )
    return bool(options.server)


def _record_on_a_server(argv: list[str]) -> None:
    from launchdeck.environments.management.commands.deployment import Command

    # The checks would read this installation's settings; in server mode there is nothing here for them to check.
    Command().run_from_argv(["launchdeck", "deployment", "--skip-checks", *argv[1:]])


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
