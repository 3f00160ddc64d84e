"""The README stays one coherent document: its sections in reading order, each once; one
Configuration table listing every environment variable the settings and gunicorn read; the
first screen names what `make run` starts."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
README = (ROOT / "README.md").read_text()

SECTIONS = [
    "Two commands",
    "Configuration",
    "Management commands",
    "API in short",
    "Dispatch",
    "Files",
    "Webforms",
    "Back office",
    "Webhooks",
    "Deploying",
    "Operations",
    "Performance",
    "Development",
]
ENV_READ = re.compile(r"""(?:os\.environ\.get|os\.environ\[|env_(?:bool|int|list))\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def sections() -> list[str]:
    return re.findall(r"(?m)^## (.+)$", README)


def section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_sections_in_reading_order_each_once():
    titles = sections()
    assert len(titles) == len(SECTIONS), titles
    for expected, title in zip(SECTIONS, titles, strict=True):
        assert title.startswith(expected), (expected, title)


def test_configuration_table_lists_every_environment_variable():
    names = set()
    for path in (ROOT / "installer" / "settings.py", ROOT / "gunicorn.conf.py"):
        names |= set(ENV_READ.findall(path.read_text()))
    assert {"DATABASE_URL", "SECRET_KEY", "WEBHOOK_TIMEOUT_SECONDS", "GUNICORN_WORKERS"} <= names  # the regex works
    table = "\n".join(line for line in section("Configuration").splitlines() if line.startswith("| `"))
    missing = sorted(name for name in names if f"`{name}`" not in table)
    assert missing == []
    assert README.count("\n## Configuration") == 1


def test_two_commands_names_what_make_run_starts():
    first = section("Two commands")
    for needle in ("/f/demo-ev-charger/", "/admin/dashboard/", "manage.py demo_tokens", "db_worker", "/api/docs/"):
        assert needle in first, needle
