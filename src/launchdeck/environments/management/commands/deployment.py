"""`launchdeck deployment record`: a CI pipeline (or a person) reports a deployment, locally or to a server's API."""

import datetime
import json
import os
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from launchdeck.environments.choices import DeploymentOutcome, DeploymentSource

TIMEOUT_SECONDS = 30


def _describe(body: dict) -> str:
    """One line saying what was recorded, from the API's answer (the same shape in both modes)."""
    release = f", release {body['release']}" if body.get("release") else ""
    return (
        f"Recorded deployment {body['id']}: {body['system']} {body['version']} to {body['environment']} "
        f"at {body['deployed_at']} ({body['outcome']}, source {body['source']}{release})."
    )


def _refusal(status: int, body: dict) -> str:
    """The API's refusal as one message: its detail and each field's message."""
    detail = body.get("detail") or f"The server answered {status}."
    messages = [
        f"{error['field']}: {error['message']}" if error.get("field") else error["message"]
        for error in body.get("errors", [])
    ]
    shown = [message for message in messages if message != detail]
    return "; ".join([f"{detail} ({status})", *shown])


def post_deployment(server: str, token: str, payload: dict) -> dict:
    """POST one deployment to `server`'s API with a bearer token (standard library only); the recorded deployment,
    or `CommandError` with the server's reasons."""
    url = server.rstrip("/") + "/api/v1/deployments"
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        raise CommandError(_refusal(exc.code, body if isinstance(body, dict) else {})) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(f"Cannot reach {url}: {reason}") from None


class Command(BaseCommand):
    help = (
        "Record a deployment: `deployment record --system NAME --environment NAME --version V`. Locally it writes "
        "to this installation's database; with --server (or LAUNCHDECK_SERVER) and --token (or LAUNCHDECK_TOKEN) "
        "it posts to that server's API. Exits non-zero, with the reason, when the deployment is refused."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        record = sub.add_parser("record", help="Record one deployment.")
        record.add_argument("--system", required=True, help="The system's name (any case).")
        record.add_argument("--environment", required=True, help="The environment's name (any case).")
        record.add_argument("--version", dest="deployed_version", required=True, help="The version deployed.")
        record.add_argument("--outcome", default=DeploymentOutcome.SUCCEEDED, choices=DeploymentOutcome.values)
        record.add_argument("--source", default=DeploymentSource.CI, choices=DeploymentSource.values)
        record.add_argument("--at", help="When, as ISO 8601 with a time zone (e.g. 2026-03-02T09:00:00Z); default now.")
        record.add_argument("--release", help="The release's name.")
        record.add_argument("--change", default="", help="The change request's reference.")
        record.add_argument("--external-id", default="", help="The pipeline run or job id: a second report is refused.")
        record.add_argument("--notes", default="")
        record.add_argument("--server", default=os.environ.get("LAUNCHDECK_SERVER", ""), help="Launchdeck's URL.")
        record.add_argument("--token", default=os.environ.get("LAUNCHDECK_TOKEN", ""), help="An API bearer token.")

    def handle(self, *args, action, **options):
        if options["server"]:
            self._record_on_server(**options)
        else:
            self._record_here(**options)

    def _record_on_server(self, *, server, token, **options):
        if not token:
            raise CommandError("Give an API token with --token or LAUNCHDECK_TOKEN to record on a server.")
        payload = {
            "system": options["system"],
            "environment": options["environment"],
            "version": options["deployed_version"],
            "outcome": options["outcome"],
            "source": options["source"],
            "change_reference": options["change"],
            "external_id": options["external_id"],
            "notes": options["notes"],
        }
        if options["at"]:
            payload["deployed_at"] = options["at"]
        if options["release"]:
            payload["release"] = options["release"]
        self.stdout.write(_describe(post_deployment(server, token, payload)))

    def _record_here(self, **options):
        from launchdeck.catalog.models import System
        from launchdeck.core.errors import DomainError
        from launchdeck.environments import selectors, services
        from launchdeck.environments.models import Environment
        from launchdeck.releases.models import Release

        def named(model, name: str, label: str):
            found = selectors.named_row(user=None, model=model, name=name)
            if found is None:
                raise CommandError(f"{label}: {selectors.unknown_name(label, name)}")
            return found

        deployed_at = None
        if options["at"]:
            try:
                deployed_at = datetime.datetime.fromisoformat(options["at"])
            except ValueError:
                raise CommandError(f"deployed_at: {options['at']!r} is not an ISO 8601 time.") from None
        try:
            deployment = services.deployment_record(
                actor=None,
                system=named(System, options["system"], "system"),
                environment=named(Environment, options["environment"], "environment"),
                version=options["deployed_version"],
                deployed_at=deployed_at,
                outcome=options["outcome"],
                source=options["source"],
                release=named(Release, options["release"], "release") if options["release"] else None,
                change_reference=options["change"],
                external_id=options["external_id"],
                notes=options["notes"],
            )
        except DomainError as exc:
            reasons = [
                f"{error['field']}: {error['message']}" if error["field"] else error["message"] for error in exc.errors
            ]
            raise CommandError("; ".join(reasons) or exc.detail) from None
        self.stdout.write(
            _describe(
                {
                    "id": deployment.pk,
                    "system": deployment.system.name,
                    "version": deployment.version,
                    "environment": deployment.environment.name,
                    "deployed_at": deployment.deployed_at.isoformat(),
                    "outcome": deployment.outcome,
                    "source": deployment.source,
                    "release": deployment.release.name if deployment.release else None,
                }
            )
        )
