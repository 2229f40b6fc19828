"""Property tests of the capacity rules against a brute-force reference that checks every minute of small windows."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.environments import rules
from launchdeck.environments.rules import EXCLUSIVE, SHARED, Held

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HORIZON = 40  # minutes: small windows, so the reference can look at every minute


def minute(value: int) -> datetime:
    return BASE + timedelta(minutes=value)


USAGES = st.sampled_from([EXCLUSIVE, SHARED])


@st.composite
def windows(draw, usage=USAGES):
    start = draw(st.integers(0, HORIZON - 1))
    length = draw(st.integers(1, 15))
    return start, start + length, draw(usage)


@st.composite
def held_lists(draw, max_size=8):
    raw = draw(st.lists(windows(), max_size=max_size))
    return [Held(key, minute(start), minute(end), usage) for key, (start, end, usage) in enumerate(raw)]


capacities = st.integers(1, 4)


def _minutes(held: Held) -> range:
    return range(int((held.start - BASE).total_seconds() // 60), int((held.end - BASE).total_seconds() // 60))


def reference_clashes(capacity: int, usage: str, start: int, end: int, held: list[Held]) -> set:
    """Minute by minute: the bookings running beside the new one where it would break the rule."""
    found = set()
    for instant in range(start, end):
        running = [other for other in held if instant in _minutes(other)]
        if usage == EXCLUSIVE:
            found.update(other.key for other in running)
            continue
        found.update(other.key for other in running if other.usage == EXCLUSIVE)
        shared = [other for other in running if other.usage != EXCLUSIVE]
        if len(shared) + 1 > capacity:
            found.update(other.key for other in shared)
    return found


def fits_everywhere(capacity: int, usage: str, start: int, end: int, held: list[Held]) -> bool:
    """Minute by minute: with the new booking added, no minute it runs has an exclusive beside anything, or more
    shared bookings than the capacity."""
    for instant in range(start, end):
        running = [other for other in held if instant in _minutes(other)]
        if usage == EXCLUSIVE and running:
            return False
        if any(other.usage == EXCLUSIVE for other in running):
            return False
        if len(running) + 1 > capacity:
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(capacity=capacities, window=windows(), held=held_lists())
def test_clashes_names_exactly_the_bookings_the_minute_by_minute_check_finds(capacity, window, held):
    start, end, usage = window
    assert set(rules.clashes(capacity, usage, minute(start), minute(end), held)) == reference_clashes(
        capacity, usage, start, end, held
    )


@settings(max_examples=400, deadline=None)
@given(capacity=capacities, window=windows(), held=held_lists())
def test_a_booking_fits_exactly_when_no_minute_goes_over_capacity(capacity, window, held):
    start, end, usage = window
    fits = not rules.clashes(capacity, usage, minute(start), minute(end), held)
    assert fits == fits_everywhere(capacity, usage, start, end, held)


@settings(max_examples=300, deadline=None)
@given(capacity=capacities, held=held_lists())
def test_overbooked_finds_every_booking_that_does_not_fit_beside_the_others(capacity, held):
    expected = {
        booking.key
        for booking in held
        if reference_clashes(
            capacity,
            booking.usage,
            _minutes(booking).start,
            _minutes(booking).stop,
            [other for other in held if other.key != booking.key],
        )
    }
    assert rules.overbooked(capacity, held) == expected


@settings(max_examples=300, deadline=None)
@given(capacity=capacities, held=held_lists())
def test_bookings_placed_one_by_one_through_clashes_are_never_overbooked(capacity, held):
    placed: list[Held] = []
    for booking in held:
        if not rules.clashes(capacity, booking.usage, booking.start, booking.end, placed):
            placed.append(booking)
    assert rules.overbooked(capacity, placed) == set()
    for instant in range(HORIZON + 15):
        running = [booking for booking in placed if instant in _minutes(booking)]
        assert len(running) <= capacity
        assert not (len(running) > 1 and any(booking.usage == EXCLUSIVE for booking in running))


@settings(max_examples=300, deadline=None)
@given(
    capacity=capacities,
    usage=st.sampled_from([EXCLUSIVE, SHARED]),
    duration=st.integers(1, 15),
    earliest=st.integers(0, 20),
    span=st.integers(0, 40),
    held=held_lists(),
    blocked=st.lists(st.tuples(st.integers(0, HORIZON), st.integers(1, 8)), max_size=3),
)
def test_first_fit_is_the_earliest_minute_at_which_the_booking_fits(
    capacity, usage, duration, earliest, span, held, blocked
):
    latest = earliest + span
    blocked_windows = [(minute(start), minute(start + length)) for start, length in blocked]
    expected = None
    for start in range(earliest, latest - duration + 1):
        end = start + duration
        if any(first < end and start < first + length for first, length in blocked):
            continue
        if fits_everywhere(capacity, usage, start, end, held):
            expected = minute(start)
            break
    found = rules.first_fit(
        capacity, usage, timedelta(minutes=duration), minute(earliest), minute(latest), held, blocked_windows
    )
    assert found == expected


def test_first_fit_refuses_a_duration_of_nothing():
    assert rules.first_fit(1, EXCLUSIVE, timedelta(0), minute(0), minute(10), []) is None


def test_availability_counts_up_time_over_in_service_time():
    history = [(minute(0), "available"), (minute(10), "down"), (minute(15), "provisioning"), (minute(20), "in_use")]
    assert rules.availability(history, minute(0), minute(30)) == 20 / 25
    assert rules.availability([(minute(0), "decommissioned")], minute(0), minute(30)) is None


def test_the_window_rule_of_one_booking():
    assert rules.window_problem(BASE, BASE + timedelta(hours=1)) is None
    assert rules.window_problem(BASE, BASE) == ("ends_at", "A booking ends after it starts.")
    assert rules.window_problem(BASE, BASE + timedelta(minutes=29)) == (
        "ends_at",
        "A booking lasts at least 30 minutes.",
    )
    assert rules.window_problem(BASE, BASE + timedelta(days=366)) is None
    assert rules.window_problem(BASE, BASE + timedelta(days=367)) == (
        "ends_at",
        "A booking lasts at most 366 days; this one lasts 367 days. Book it in parts.",
    )
