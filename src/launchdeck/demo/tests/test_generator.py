"""The demo command, and what the seed decides. What the preset contains is tested in `test_demo_preset.py`, where it
loads once for many tests."""

import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from launchdeck.accounts.models import User
from launchdeck.demo.generator import DEMO_PASSWORD, DemoResult, _colleagues


def _colleague_names(seed: int) -> list[tuple[str, str, str]]:
    _colleagues(random.Random(seed), 12, DemoResult(preset="demo", seed=seed))
    names = sorted(User.objects.values_list("username", "first_name", "last_name"))
    User.objects.all().delete()
    return names


def test_another_seed_gives_other_people_and_the_same_seed_the_same(db):
    assert _colleague_names(42) == _colleague_names(42)
    assert _colleague_names(42) != _colleague_names(43)


def test_the_command_refuses_a_non_empty_database_unless_told_to_skip(db, capsys):
    call_command("demo", "--preset", "demo")
    out = capsys.readouterr().out
    assert "users (one per role)" in out and DEMO_PASSWORD in out
    with pytest.raises(CommandError, match="not empty"):
        call_command("demo", "--preset", "demo")
    call_command("demo", "--preset", "demo", "--if-empty")
    assert "not loaded" in capsys.readouterr().out
