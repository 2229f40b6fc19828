"""Reading `LAUNCHDECK_*` environment variables: the only place settings come from."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "LAUNCHDECK_"
PLACEHOLDER_SECRET_KEYS = frozenset({"", "change-me", "changeme", "secret", "insecure", "placeholder"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def env_str(name: str, default: str = "") -> str:
    """The value of `LAUNCHDECK_<name>`, or `default` when it is not set."""
    return os.environ.get(PREFIX + name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable; anything that is not a recognised word is a configuration error."""
    raw = os.environ.get(PREFIX + name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """A whole-number variable within bounds; anything else is a configuration error."""
    raw = os.environ.get(PREFIX + name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name} must be a whole number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{PREFIX}{name} must be between {minimum} and {maximum}, not {value}.")
    return value


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated variable as a list of non-empty, stripped items."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def secret_key(*, debug: bool) -> str:
    """The secret key from `LAUNCHDECK_SECRET_KEY` or the file named by `LAUNCHDECK_SECRET_KEY_FILE`.

    With debug off a missing or placeholder key is refused, so that no deployment runs with a guessable key.
    """
    key = env_str("SECRET_KEY")
    key_file = env_str("SECRET_KEY_FILE")
    if not key and key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{PREFIX}SECRET_KEY_FILE cannot be read: {exc}") from exc
    if key.lower() in PLACEHOLDER_SECRET_KEYS or key.startswith("django-insecure"):
        if debug:
            return "django-insecure-development-only-key-do-not-use-in-production"
        raise ImproperlyConfigured(
            f"Refusing to start: {PREFIX}SECRET_KEY is missing or a placeholder and {PREFIX}DEBUG is off. "
            f"Set {PREFIX}SECRET_KEY (or {PREFIX}SECRET_KEY_FILE) to a long random value."
        )
    if len(key) < 32 and not debug:
        raise ImproperlyConfigured(f"Refusing to start: {PREFIX}SECRET_KEY must be at least 32 characters long.")
    return key
