"""Writing audit events. Only services call `audit_record`, inside their own transaction."""

import datetime
import decimal
import uuid
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from launchdeck.audit.choices import AuditSource
from launchdeck.audit.context import current_audit_context, default_operator
from launchdeck.audit.models import AuditEvent


class AuditOutsideTransaction(RuntimeError):
    """A service tried to audit a change outside a transaction, so the change and its record could diverge."""


def _jsonable(value: Any) -> Any:
    """Plain JSON for dates, decimals, model instances and nested containers."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def audit_record(
    actor,
    event_type: str,
    obj: models.Model,
    *,
    old: dict | None = None,
    new: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one audit event for a change to `obj`, attributed through the open `audit_context()`.

    `actor` None means the trusted operator (a CLI command or a job); the context's `operator` then names it.
    Work with no open context (a shell, a migration) is attributed to the command line.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(f"{event_type} must be recorded inside the service's transaction.")
    ctx = current_audit_context()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else ((ctx.operator if ctx else "") or default_operator()),
        source=ctx.source if ctx else AuditSource.CLI,
        request_id=ctx.request_id if ctx else "",
        event_type=event_type,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        old_data=_jsonable(old) if old is not None else None,
        new_data=_jsonable(new) if new is not None else None,
        reason=reason or (ctx.reason if ctx else ""),
    )


def changed_fields(old: dict, new: dict) -> tuple[dict, dict]:
    """The (old, new) pair restricted to the keys whose value changed, for compact audit data."""
    keys = [key for key in new if old.get(key) != new.get(key)]
    return {key: old.get(key) for key in keys}, {key: new[key] for key in keys}
