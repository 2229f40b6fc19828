"""Writing audit events. Only services call `audit_record`, inside their own transaction."""

import datetime
import decimal
import uuid
from collections import Counter
from typing import Any

from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from launchdeck.audit.choices import AuditSource
from launchdeck.audit.context import current_audit_context, default_operator
from launchdeck.audit.models import AuditEvent
from launchdeck.core.bulk import insert_all
from launchdeck.core.errors import Conflict
from launchdeck.core.models import bump_version
from launchdeck.core.permissions import require_perm
from launchdeck.core.services import assign, save, snapshot


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
    event = AuditEvent(
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
    insert_all(AuditEvent, [event])  # every change writes one: the plain INSERT, not the ORM's generic save
    return event


def changed_fields(old: dict, new: dict) -> tuple[dict, dict]:
    """The (old, new) pair restricted to the keys whose value changed, for compact audit data."""
    keys = [key for key in new if old.get(key) != new.get(key)]
    return {key: old.get(key) for key in keys}, {key: new[key] for key in keys}


def _strip(changes: dict) -> dict:
    return {key: value.strip() if isinstance(value, str) else value for key, value in changes.items()}


def fields_of(names: list[str]):
    """A function giving an instance's audited values of `names`, for `update_audited`."""
    return lambda instance: snapshot(instance, names)


def update_audited(
    actor, instance, *, permission, event_type, data, version, changes, before_save=None, after_save=None
):
    """The shape of every edit: check, claim the version, change, validate, save, audit what changed.

    `data(instance)` gives the audited values; `before_save` checks rules that span fields; `after_save` writes
    related rows (skills, members). Strings are stripped of surrounding blanks.
    """
    require_perm(actor, permission, instance)
    before = data(instance)
    bump_version(instance, version)
    assign(instance, _strip(changes))
    if before_save:
        before_save(instance)
    save(instance)
    if after_save:
        after_save(instance)
    old, new = changed_fields(before, data(instance))
    audit_record(actor, event_type, instance, old=old, new=new)
    return instance


def still_used(instance, uses: list[tuple[int, str]], remedy: str = "move or remove them first") -> Conflict:
    """The one refusal for deleting a row others still refer to: "X is still used by 2 projects and 1 spend row",
    then what to do instead (`remedy`).

    `uses` pairs a count with the label already in the right number; kinds counted zero are left out.
    """
    named = [f"{count} {label}" for count, label in uses if count]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return Conflict(f"{instance} is still used by {listed}; {remedy}.")


def delete_audited(actor, instance, event_type: str) -> None:
    """Delete and audit; a row still referenced (PROTECT) is a 409 saying what still uses it, by kind."""
    data = {"name": str(instance)}
    pk = instance.pk
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        kinds = Counter(type(row)._meta for row in exc.protected_objects)
        uses = [(count, meta.verbose_name if count == 1 else meta.verbose_name_plural) for meta, count in kinds.items()]
        raise still_used(instance, uses) from None
    instance.pk = pk
    audit_record(actor, event_type, instance, old=data)
