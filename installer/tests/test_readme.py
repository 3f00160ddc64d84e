"""docs/configuration.md stays complete and current: its tables list every environment variable
that the settings and gunicorn.conf.py read, and no variable that nothing reads."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CONFIGURATION = ROOT / "docs" / "configuration.md"
SOURCES = (ROOT / "installer" / "settings.py", ROOT / "gunicorn.conf.py", ROOT / "container" / "healthcheck.py")
ENV_READ = re.compile(r"""(?:os\.environ\.get|os\.environ\[|env_(?:bool|int|list))\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
# The image's entrypoint (a shell script) reads ${NAME...}.
SHELL_SOURCES = (ROOT / "container" / "entrypoint.sh",)
SHELL_ENV_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")


def variables_read() -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        names |= set(ENV_READ.findall(path.read_text()))
    for path in SHELL_SOURCES:
        names |= set(SHELL_ENV_READ.findall(path.read_text()))
    return names


def variables_documented() -> set[str]:
    """Names in the first column of the tables."""
    names: set[str] = set()
    for line in CONFIGURATION.read_text().splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_pattern_finds_the_settings_variables():
    assert {
        "DATABASE_URL",
        "SECRET_KEY",
        "WEBHOOK_TIMEOUT_SECONDS",
        "GUNICORN_WORKERS",
        "WORKER_COMMAND",
    } <= variables_read()


def test_every_variable_read_is_documented():
    assert sorted(variables_read() - variables_documented()) == []


def test_every_variable_documented_is_read():
    assert sorted(variables_documented() - variables_read()) == []
