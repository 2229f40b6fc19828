"""The rules of environment capacity and availability, on plain data (no database): the one place they live.

A booking holds `[start, end)` of an environment. An exclusive booking (a code or configuration change) overlaps
nothing; shared bookings (regression) may overlap each other while, at every instant, no more of them run than the
environment's capacity. The services check a new window with `clashes`, the schedule highlights existing bookings
with `overbooked`, and "next free slot" searches with `first_fit` — all three by the same rule.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

EXCLUSIVE = "exclusive"
SHARED = "shared"

# Statuses the availability figure counts as up, and those in which an environment is not in service at all
# (the same sets as `choices.UP_STATUSES` and `choices.OUT_OF_SERVICE_STATUSES`, kept here as plain strings).
UP = frozenset({"available", "in_use", "degraded"})
OUT_OF_SERVICE = frozenset({"provisioning", "decommissioned"})

# THE limits of one booking's window, and how far ahead "next free slot" looks.
MIN_BOOKING = timedelta(minutes=30)
MAX_BOOKING_DAYS = 366
BOOKING_SEARCH_DAYS = 90


def window_problem(start: datetime, end: datetime) -> tuple[str, str] | None:
    """THE rule of a booking's window alone: `(field, message)` of what is wrong with `start`..`end`, or None.

    A booking ends after it starts and lasts from `MIN_BOOKING` (30 minutes) to `MAX_BOOKING_DAYS` days.
    """
    if end <= start:
        return "ends_at", "A booking ends after it starts."
    if end - start < MIN_BOOKING:
        return "ends_at", f"A booking lasts at least {MIN_BOOKING.seconds // 60} minutes."
    if end - start > timedelta(days=MAX_BOOKING_DAYS):
        days = (end - start).days
        return (
            "ends_at",
            f"A booking lasts at most {MAX_BOOKING_DAYS} days; this one lasts {days} days. Book it in parts.",
        )
    return None


MAX_VERSION_LENGTH = 100
# A person's or a pipeline's clock may run a little ahead of the server's; beyond this, a time in the future is a
# mistake (a deployment, a component's version, a status change).
CLOCK_TOLERANCE = timedelta(minutes=5)
# Tabs, line breaks, escape sequences and the like (C0, DEL and C1): a version is one printable line.
_CONTROL_CHARACTERS = frozenset(chr(code) for code in (*range(0x20), *range(0x7F, 0xA0)))


def version_problem(version: str, *, required: bool = True) -> str | None:
    """What is wrong with a version string (deployed or recorded in an environment), or None: THE version rule."""
    if not version:
        return "Give the version that was deployed." if required else None
    if len(version) > MAX_VERSION_LENGTH:
        return f"A version is at most {MAX_VERSION_LENGTH} characters; this one has {len(version):,}."
    if any(character in _CONTROL_CHARACTERS for character in version):
        return "A version is one line of printable characters: no tabs, line breaks or codes."
    return None


@dataclass(frozen=True)
class Held:
    """A window an environment is already held for: `key` names the booking."""

    key: Hashable
    start: datetime
    end: datetime
    usage: str


def _overlapping(start: datetime, end: datetime, held: Iterable[Held]) -> list[Held]:
    return [other for other in held if other.start < end and start < other.end]


def clashes(capacity: int, usage: str, start: datetime, end: datetime, held: Iterable[Held]) -> list[Hashable]:
    """The keys of the held windows that stop a new `usage` booking of `start`..`end` from fitting (none: it fits).

    Exclusive: every overlapping booking clashes. Shared: every overlapping exclusive booking, and — when the shared
    ones already fill the capacity at some instant — the shared bookings running at those instants.
    """
    overlapping = _overlapping(start, end, held)
    if not overlapping:
        return []
    if usage == EXCLUSIVE:
        return [other.key for other in overlapping]
    blocking = [other.key for other in overlapping if other.usage == EXCLUSIVE]
    shared = [other for other in overlapping if other.usage != EXCLUSIVE]
    if len(shared) + 1 > capacity:
        blocking.extend(_at_peaks(shared, start, end, capacity))
    return blocking


def _at_peaks(shared: Sequence[Held], start: datetime, end: datetime, capacity: int) -> list[Hashable]:
    """The shared bookings that run at an instant of `start`..`end` when `capacity` or more of them run at once."""
    # Sweep the clipped windows; at equal instants an end comes before a start (the windows are half-open).
    events = []
    for other in shared:
        events.append((max(other.start, start), 1, other))
        events.append((min(other.end, end), -1, other))
    events.sort(key=lambda event: (event[0], event[1]))
    running: dict[int, Held] = {}
    full: dict[int, Held] = {}
    for _, step, other in events:
        if step < 0:
            running.pop(id(other), None)
            continue
        running[id(other)] = other
        if len(running) >= capacity:
            full.update(running)
    return [other.key for other in shared if id(other) in full]


def overbooked(capacity: int, held: Sequence[Held]) -> set[Hashable]:
    """The keys of the bookings among `held` (one environment's) that do not fit beside the others."""
    ordered = sorted(held, key=lambda item: (item.start, item.end))
    found: set[Hashable] = set()
    for index, booking in enumerate(ordered):
        # Only bookings that start before this one ends can overlap it; those after it in start order are checked
        # from their own side, so looking both ways over the sorted neighbours finds every pair once at least.
        neighbours = []
        for other in ordered[index + 1 :]:
            if other.start >= booking.end:
                break
            neighbours.append(other)
        earlier = [other for other in ordered[:index] if other.end > booking.start]
        if clashes(capacity, booking.usage, booking.start, booking.end, earlier + neighbours):
            found.add(booking.key)
    return found


def first_fit(
    capacity: int,
    usage: str,
    duration: timedelta,
    earliest: datetime,
    latest: datetime,
    held: Sequence[Held],
    blocked: Sequence[tuple[datetime, datetime]] = (),
) -> datetime | None:
    """The earliest start from `earliest` at which a `usage` booking of `duration` fits and ends by `latest`.

    `blocked` windows (freezes that forbid bookings) admit nothing. A free slot can only begin at `earliest` or when
    something ends, so those are the only starts tried.
    """
    if duration <= timedelta(0) or earliest + duration > latest:
        return None
    candidates = {earliest}
    candidates.update(other.end for other in held if earliest < other.end < latest)
    candidates.update(stop for _, stop in blocked if earliest < stop < latest)
    for start in sorted(candidates):
        end = start + duration
        if end > latest:
            break
        if any(first < end and start < stop for first, stop in blocked):
            continue
        if not clashes(capacity, usage, start, end, held):
            return start
    return None


def availability(history: Sequence[tuple[datetime, str]], start: datetime, end: datetime) -> float | None:
    """The share of the in-service time within `start`..`end` that an environment was up, from its status history.

    `history` is `(since, status)` in time order: each status holds until the next entry. Time before the first
    entry is unknown and not counted. None when the environment was never in service in the window.
    """
    up = in_service = timedelta(0)
    for index, (since, status) in enumerate(history):
        until = history[index + 1][0] if index + 1 < len(history) else end
        first, last = max(since, start), min(until, end)
        if last <= first or status in OUT_OF_SERVICE:
            continue
        in_service += last - first
        if status in UP:
            up += last - first
    if in_service <= timedelta(0):
        return None
    return up / in_service
