"""Backup and restore as docs/operations.md describes it: `pg_dump -Fc` of a seeded installation,
`pg_restore` into a fresh database, a copy of the media directory, and the restored installation
serves the same orders, files and API tokens (a real gunicorn on each).

Runs with the PostgreSQL suite (DATABASE_URL=postgres://...) on the server named there, in two
databases of its own that it drops at the end; skipped without pg_dump / pg_restore."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from installer.tests import ops

pytestmark = [pytest.mark.ops, pytest.mark.postgres]

SERVER_URL = os.environ.get("DATABASE_URL", "")
if not SERVER_URL.startswith("postgres"):
    pytestmark.append(
        pytest.mark.skip(reason="backup test runs with the PostgreSQL suite (DATABASE_URL=postgres://...)")
    )
elif not (shutil.which("pg_dump") and shutil.which("pg_restore")):
    pytestmark.append(pytest.mark.skip(reason="pg_dump / pg_restore not installed"))


def url_of(name: str) -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def databases():
    suffix = secrets.token_hex(4)
    names = [f"installer_backup_src_{suffix}", f"installer_backup_restored_{suffix}"]
    try:
        yield names
    finally:
        for name in names:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restored_into_a_fresh_database_serves_the_same_orders_files_and_tokens(databases, tmp_path):
    source, restored = databases
    media, media_copy, dump = tmp_path / "media", tmp_path / "media-restored", tmp_path / "installer.dump"
    admin(f'CREATE DATABASE "{source}"')
    env = ops.app_env(url_of(source), MEDIA_ROOT=str(media), API_RATE_LIMIT="off")
    ops.manage(env, "migrate", "--noinput")
    ops.manage(env, "seed_demo", "--quiet")
    token = ops.manage(env, "create_api_token", "demo", "--name", "backup").strip()
    auth = {"Authorization": f"Bearer {token}"}

    # The installation as it is before the backup: an order with a file uploaded to it.
    content = b"site photo, before the backup\n" + secrets.token_hex(2048).encode()
    node = ops.Gunicorn(env, tmp_path, "backup-source", workers=1, threads=2)
    try:
        orders = requests.get(f"{node.base}/api/v1/order?pageSize=500", headers=auth, timeout=10).json()
        assert orders["count"] >= 3
        order_id = orders["values"][0]["id"]
        upload = requests.post(
            f"{node.base}/api/v1/file",
            headers=auth,
            data={"orderId": order_id},
            files={"file": ("photo.txt", content, "text/plain")},
            timeout=10,
        )
        assert upload.status_code == 201, upload.text
        file_id = upload.json()["id"]
        before = requests.get(f"{node.base}/api/v1/order/{order_id}", headers=auth, timeout=10).json()
        assert [f["id"] for f in before["files"]] == [file_id]
    finally:
        node.stop()

    # The backup (docs/operations.md): the database with pg_dump -Fc, the media directory.
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), url_of(source)], check=True, timeout=120)  # noqa: S603,S607
    shutil.copytree(media, media_copy)
    # The restore, into a fresh database.
    admin(f'CREATE DATABASE "{restored}"')
    subprocess.run(  # noqa: S603
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", url_of(restored), str(dump)],  # noqa: S607
        check=True,
        timeout=120,
    )
    admin(f'DROP DATABASE "{source}" WITH (FORCE)')  # nothing can still read the original
    shutil.rmtree(media)

    restored_env = ops.app_env(url_of(restored), MEDIA_ROOT=str(media_copy), API_RATE_LIMIT="off")
    assert "[ ]" not in ops.manage(restored_env, "showmigrations", "--plan")  # the schema is complete
    node = ops.Gunicorn(restored_env, tmp_path, "backup-restored", workers=1, threads=2)
    try:
        after_list = requests.get(f"{node.base}/api/v1/order?pageSize=500", headers=auth, timeout=10)
        assert after_list.status_code == 200  # the token made before the backup still works
        assert after_list.json() == orders | {"values": after_list.json()["values"]}
        assert [o["id"] for o in after_list.json()["values"]] == [o["id"] for o in orders["values"]]
        after = requests.get(f"{node.base}/api/v1/order/{order_id}", headers=auth, timeout=10).json()
        assert after == before
        download = requests.get(f"{node.base}/api/v1/file/{file_id}/content", headers=auth, timeout=10)
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest()
        assert (
            requests.get(f"{node.base}/api/v1/order", headers={"Authorization": "Bearer nope"}, timeout=10).status_code
            == 401
        )
        # and it takes writes: a new order gets the next display id after the restored ones
        from orders.tests.factories import order_payload

        created = requests.post(f"{node.base}/api/v1/order", json=order_payload(), headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["displayId"] not in {o["displayId"] for o in orders["values"]}
    finally:
        node.stop()
