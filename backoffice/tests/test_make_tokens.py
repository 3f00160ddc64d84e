"""What `seed_demo` (and so `make run`) prints for the installer tokens works as printed, in a
plain shell: no DEBUG, no SECRET_KEY, no settings module in the environment."""

from __future__ import annotations

import io
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TOKEN_LINE = re.compile(r"^  API token \((demo, admin|installer [^)]+)\):  (ins_\S+)$", re.M)


def test_the_printed_tokens_command_works_outside_make(tmp_path):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    printed = re.search(r"\(tokens: ([^)]+)\)", out.getvalue())
    assert printed is not None, out.getvalue()
    command = shlex.split(printed.group(1))
    assert command == ["make", "tokens"]

    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"} and not name.startswith("MAKE")
    }
    database = tmp_path / "db.sqlite3"
    env["DATABASE_URL"] = f"sqlite:///{database}"
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        command.append(f"VENV={sys.prefix}")  # the suite runs from another virtualenv than make's
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SECRET_KEY" not in result.stderr

    tokens = dict(TOKEN_LINE.findall(result.stdout))
    assert set(tokens) == {
        "demo, admin",
        "installer Oslo Elektro AS",
        "installer Fjord Installasjon AS",
        "installer Nordic Charge AS",
    }, result.stdout
    # Each printed token is stored (as its hash) in the database the command was pointed at.
    table = ApiToken._meta.db_table
    with sqlite3.connect(database) as db:
        for raw in tokens.values():
            query = f"SELECT COUNT(*) FROM {table} WHERE key_hash = ?"  # noqa: S608 - the model's own table name
            assert db.execute(query, (hash_token(raw),)).fetchone() == (1,)
