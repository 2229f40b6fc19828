import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from launchdeck.core.env import env_bool, secret_key


@pytest.mark.parametrize("value", ["", "change-me", "django-insecure-abc", "placeholder", "short-but-real"])
def test_refuses_to_start_without_a_real_secret_key_when_debug_is_off(monkeypatch, value):
    monkeypatch.setenv("LAUNCHDECK_SECRET_KEY", value)
    monkeypatch.delenv("LAUNCHDECK_SECRET_KEY_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="Refusing to start"):
        secret_key(debug=False)


def test_debug_tolerates_a_missing_key(monkeypatch):
    monkeypatch.delenv("LAUNCHDECK_SECRET_KEY", raising=False)
    monkeypatch.delenv("LAUNCHDECK_SECRET_KEY_FILE", raising=False)
    assert secret_key(debug=True).startswith("django-insecure")


def test_secret_key_can_come_from_a_file(monkeypatch, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("k" * 50 + "\n")
    monkeypatch.delenv("LAUNCHDECK_SECRET_KEY", raising=False)
    monkeypatch.setenv("LAUNCHDECK_SECRET_KEY_FILE", str(key_file))
    assert secret_key(debug=False) == "k" * 50
    monkeypatch.setenv("LAUNCHDECK_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        secret_key(debug=False)


def test_booleans_must_be_words_we_know(monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_DEBUG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="true or false"):
        env_bool("DEBUG")
    monkeypatch.setenv("LAUNCHDECK_DEBUG", "Yes")
    assert env_bool("DEBUG") is True


def test_the_real_settings_module_refuses_to_import_without_a_key():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHDECK_")}
    env["DJANGO_SETTINGS_MODULE"] = "launchdeck.config.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_sqlite_serialises_writers_with_immediate_transactions_and_wal():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


def test_healthz_and_readyz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "database": "ok"}
