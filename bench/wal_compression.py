"""What PostgreSQL's `wal_compression` costs an order's write, on this machine.

An order's change (a transition: status, updated_at, event_seq) is never a HOT update: every
index of orders gets a new entry, each on a page of its own. The first change of a page after a
checkpoint writes the whole page to the WAL (a full-page image), compressed by `wal_compression`.
This script, for each setting in turn (3 passes), runs CHECKPOINT, then updates N random created
orders of a seeded bench database in one transaction that it rolls back (nothing changes), and
prints per update: the backend's CPU (from /proc; PostgreSQL must run on this machine), the wall
time, the full-page images and their compressed size (with the contrib extension pg_walinspect,
created if missing), and the WAL bytes.

Run:  .venv/bin/python bench/wal_compression.py [DATABASE_URL] [N]
      (default postgres://postgres@127.0.0.1:5432/installer_bench_1000000, N 2000; needs a
      superuser for CHECKPOINT, pg_switch_wal and SET wal_compression; PostgreSQL must run on
      this machine for the CPU column)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

SETTINGS = ("pglz", "lz4", "zstd", "off")

UPDATE = """DO $$ DECLARE r uuid; BEGIN FOREACH r IN ARRAY %s::uuid[] LOOP
UPDATE orders_order SET status = 1, updated_at = clock_timestamp(), event_seq = event_seq + 1 WHERE id = r;
END LOOP; END $$"""


def one(cur: psycopg.Cursor) -> tuple[Any, ...]:
    """The next row of a query that returns one."""
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default="postgres://postgres@127.0.0.1:5432/installer_bench_1000000")
    parser.add_argument("n", nargs="?", type=int, default=2000, help="updates per run")
    args = parser.parse_args()
    conn = psycopg.connect(args.url, autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = one(cur)[0]
    cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_walinspect'")
    existed = one(cur)[0] > 0
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")  # dropped again at the end
        inspect = True
    except psycopg.Error:
        inspect = False
    try:
        run(cur, pid, inspect, args.n)
    finally:
        if inspect and not existed:
            cur.execute("DROP EXTENSION pg_walinspect")


def run(cur: psycopg.Cursor, pid: int, inspect: bool, n_updates: int) -> None:
    cur.execute("SELECT setting FROM pg_settings WHERE name = 'wal_compression'")
    print(f"server's wal_compression: {one(cur)[0]}; {n_updates} updates per run, right after a CHECKPOINT")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    print(
        "| wal_compression | backend CPU us/update | wall us/update | full-page images/update | bytes per image | WAL bytes/update |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for _ in range(3):
        for setting in SETTINGS:
            try:
                cur.execute(f"SET wal_compression = '{setting}'")  # a constant of SETTINGS
            except psycopg.Error as error:
                print(f"| {setting} | not available: {error} |||||")
                continue
            cur.execute("CHECKPOINT")
            cur.execute("SELECT id FROM orders_order WHERE status = 0 ORDER BY random() LIMIT %s", (n_updates,))
            ids = [row[0] for row in cur.fetchall()]
            if not ids:
                sys.exit("no created orders: seed the database with `make bench` first")
            cur.execute("BEGIN")
            cur.execute("SELECT pg_current_wal_insert_lsn()")
            start = one(cur)[0]
            cpu0, wall0 = cpu(), time.perf_counter()
            cur.execute(UPDATE.replace("%s", "'{" + ",".join(map(str, ids)) + "}'"))  # uuids from the database
            wall, used = time.perf_counter() - wall0, cpu() - cpu0
            cur.execute("SELECT pg_current_wal_insert_lsn()")
            end = one(cur)[0]
            cur.execute("ROLLBACK")
            images = size = None
            if inspect:
                cur.execute("SELECT pg_switch_wal()")  # flushes the rolled-back records for pg_walinspect
                cur.execute(
                    "SELECT count(*) FILTER (WHERE fpi_length > 0), coalesce(sum(fpi_length), 0) "
                    "FROM pg_get_wal_records_info(%s, %s)",
                    (start, end),
                )
                images, size = one(cur)
            cur.execute("SELECT pg_wal_lsn_diff(%s, %s)", (end, start))
            wal = float(one(cur)[0])
            n = len(ids)
            per_image = f"{size / images:.0f}" if images else "-"
            per_update = f"{images / n:.1f}" if images is not None else "-"
            print(
                f"| {setting} | {used / n * 1e6:.0f} | {wall / n * 1e6:.0f} | {per_update} | {per_image} | {wal / n:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
