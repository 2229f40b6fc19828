"""Who is acting, from where, and why: attributed to every audit event written while the context is open."""

import contextlib
import getpass
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace

from launchdeck.audit.choices import AuditSource


@dataclass(frozen=True)
class AuditContext:
    source: str
    request_id: str
    reason: str = ""
    operator: str = ""


_current: ContextVar[AuditContext | None] = ContextVar("launchdeck_audit_context", default=None)


def current_audit_context() -> AuditContext | None:
    """The innermost open context, or None when no entry point opened one."""
    return _current.get()


@contextlib.contextmanager
def audit_context(
    source: str | AuditSource, *, request_id: str | None = None, reason: str = "", operator: str = ""
) -> Iterator[AuditContext]:
    """Attribute the audit events written inside the block to `source` (web, api, cli, job, webhook).

    Entry points open it: the web middleware per request, the CLI per command, a job per run. A nested context
    keeps the outer request id unless given one, so work started by a request stays traceable to it.
    """
    outer = _current.get()
    ctx = AuditContext(
        source=AuditSource(source).value,
        request_id=request_id or (outer.request_id if outer else uuid.uuid4().hex),
        reason=reason,
        operator=operator or (outer.operator if outer else ""),
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextlib.contextmanager
def audit_reason(reason: str) -> Iterator[None]:
    """Give the events written inside the block a reason, keeping the current source and request id."""
    outer = _current.get()
    if outer is None:
        raise RuntimeError("audit_reason() needs an open audit_context().")
    token = _current.set(replace(outer, reason=reason))
    try:
        yield
    finally:
        _current.reset(token)


def default_operator() -> str:
    """How to name the person at the server's command line when no signed-in user acts: `cli:<login>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def audited_job(func):
    """Run a background job's body inside an audit context with source `job`, named after the job."""
    import functools

    @functools.wraps(func)
    def run(*args, **kwargs):
        with audit_context(AuditSource.JOB, operator=f"job:{func.__module__}.{func.__qualname__}"):
            return func(*args, **kwargs)

    return run
