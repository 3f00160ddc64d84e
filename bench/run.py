"""`make bench`: seeds N orders into a PostgreSQL database of its own, starts gunicorn with
production settings (DEBUG off) on 127.0.0.1, drives each endpoint with wrk for a bounded time,
and prints one table (requests/s, p50, p99, errors, server CPU per request) plus each worker's
memory. The table is also written to bench/results/<orders>.md, and the query plans of every List
Orders filter to bench/results/<orders>-plans.txt; the next run of the same size replaces both.
The header of the table names the date, the machine and PostgreSQL's settings.

    make bench                       # 10,000 orders
    make bench BENCH_ARGS="--orders 1000000"
    python bench/run.py --orders 10000 --duration 10 --connections 16 --reuse

Only 127.0.0.1 is ever contacted. Every wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua"
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
PG_BASE = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8089"))
SECRET = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG"


def sh(cmd: list[str], env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=True, cwd=ROOT, **kw)


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("== installing wrk (Debian package)")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    )
    return shutil.which("wrk") or sys.exit("wrk is not available")


def django_env(db_url: str) -> dict:
    return {
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "installer.settings",
        "STATIC_MANIFEST": "0",
        "API_RATE_LIMIT": "",
        "WEBFORM_RATE_LIMIT": "1000000",
    }


def prepare_database(n: int, reuse: bool) -> str:
    import psycopg

    name = f"installer_bench_{n}"
    url = f"{PG_BASE}/{name}"
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            print(f"== reusing database {name} (migrated to the current code)")
            sh([PY, "manage.py", "migrate", "--noinput", "-v0"], django_env(url))
            return url
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = django_env(url)
    print(f"== migrating {name}")
    sh([PY, "manage.py", "migrate", "--noinput", "-v0"], env)
    sh([PY, "manage.py", "seed_demo", "--quiet"], env)
    print(f"== seeding {n:,} orders")
    sh([PY, "bench/seed.py", "--orders", str(n)], env)
    return url


def settle(db_url: str) -> str:
    """VACUUM ANALYZE of the order tables before every run, as after seeding: the writes of the
    runs before it (Dispatch, Cancel, Create) leave heap pages that are not all-visible until
    autovacuum gets to them, and the List rows' index-only scans then read the heap. Each run
    starts from a settled table, as a database that autovacuum keeps up with."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) orders_order, orders_taggedorder, orders_orderevent")
        return prewarm(conn)


# What the header of the results records of the server: the settings that move the figures.
PG_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "synchronous_commit",
    "wal_compression",
    "max_wal_size",
    "checkpoint_timeout",
)


def prewarm(conn) -> str:
    """Reads the tables and indexes of the database into PostgreSQL's shared buffers, smallest
    first, as many as fit (pg_prewarm, PostgreSQL's contrib): a server that has been serving the
    data has them there. Without it the first runs after a restart read index pages from the
    disk. Returns what it did, for the results header."""
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except Exception as exc:  # noqa: BLE001 - no contrib: run cold, and say so
        return f"not prewarmed ({type(exc).__name__})"
    room = conn.execute("SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'").fetchone()[0]
    relations = conn.execute(
        "SELECT c.oid, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') ORDER BY 2, 1"
    ).fetchall()
    loaded = 0
    for oid, size in relations:
        if loaded + size > room * 0.9:
            break
        conn.execute("SELECT pg_prewarm(%s::regclass)", [oid])
        loaded += size
    return f"{loaded / 2**20:,.0f} MB of tables and indexes prewarmed into shared buffers"


def server_settings(db_url: str) -> str:
    """The PostgreSQL version and PG_SETTINGS, as one line."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        version = str((conn.execute("SHOW server_version").fetchone() or ("?",))[0])
        values = [f"{name} {(conn.execute(f'SHOW {name}').fetchone() or ('?',))[0]}" for name in PG_SETTINGS]
    return f"PostgreSQL {version.split()[0]}: " + ", ".join(values)


def fixtures(db_url: str, workdir: Path, repeat: int = 1) -> dict:
    """Tokens, ids and a deep cursor for the wrk scripts, read with Django in a subprocess."""
    code = r"""
import io, json
import django
django.setup()
from django.core.management import call_command
from orders.models import Order, OrderTag
from installer.api.pagination import encode_cursor
org = Order._meta.get_field("organization").related_model.objects.get(slug="demo")
out = io.StringIO()
call_command("create_api_token", "demo", "--name", "bench", stdout=out)
token = out.getvalue().strip()
tag = OrderTag.objects.filter(organization=org).order_by("name").first()
ids = [str(i) for i in Order.objects.filter(organization=org).order_by("?").values_list("id", flat=True)[:5000]]
qs = Order.objects.filter(organization=org, status=1, tagged_items__tag=tag).order_by("-created_at", "-id")
total = qs.count()
deep = qs[max(total // 2, 0):][:1].values_list("created_at", "id").first()
# Created orders without the List rows' tag (seeded ones with another tag, and the untagged ones
# bench/seed.py --status 0 tops up), not those of the Create rows (dated now): dispatched
# (status 1), an order with that tag would join the status+tag list the List rows read, and each
# run would read a longer list with other pages.
created = [str(i) for i in Order.objects.filter(organization=org, status=0).exclude(name="Bench order").exclude(tagged_items__tag=tag).order_by("?").values_list("id", flat=True)[:200000]]
print(json.dumps({"token": token, "tag": str(tag.pk), "ids": ids, "created": created, "total": Order.objects.count(),
                  "deep_cursor": encode_cursor(*deep) if deep else "", "filtered": total}))
"""
    out = subprocess.run(
        [PY, "-c", code], env={**os.environ, **django_env(db_url)}, cwd=ROOT, check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    (workdir / "ids.txt").write_text("\n".join(data["ids"]) + "\n")
    # Dispatch and Cancel: each run of each row gets its own slice of fresh orders.
    slices = 2 * repeat
    size = len(data["created"]) // slices
    for index in range(slices):
        verb, run = ("dispatch", index) if index < repeat else ("cancel", index - repeat)
        chunk = data["created"][index * size : (index + 1) * size]
        (workdir / f"{verb}_ids_{run}.txt").write_text("\n".join(chunk) + "\n")
    return data


def fixtures_with_fresh_orders(db_url: str, workdir: Path, repeat: int, duration: int) -> dict:
    """`fixtures`, after topping up the fresh created orders that Dispatch and Cancel take, one
    per request: enough that neither runs out within `duration` at up to FRESH_RATE requests/s
    (an order taken twice is a 409 for Cancel, a re-dispatch for Dispatch)."""
    data = fixtures(db_url, workdir, repeat)
    need = 2 * repeat * duration * FRESH_RATE
    if len(data["created"]) < need:
        print(f"== topping up {need - len(data['created']):,} fresh created orders for Dispatch and Cancel")
        sh([PY, "bench/seed.py", "--orders", str(need - len(data["created"])), "--status", "0"], django_env(db_url))
        data = fixtures(db_url, workdir, repeat)
    return data


def start_gunicorn(db_url: str) -> subprocess.Popen:
    conf = ROOT / "gunicorn.conf.py"
    cmd = [PY, "-m", "gunicorn", "installer.wsgi:application", "--bind", f"127.0.0.1:{PORT}"]
    if conf.exists():
        cmd += ["-c", str(conf)]
    else:
        cmd += ["--workers", "4", "--worker-class", "gthread", "--threads", "4"]
    env = {**os.environ, **django_env(db_url), "GUNICORN_BIND": f"127.0.0.1:{PORT}", "GUNICORN_ACCESS_LOG": ""}
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "bench" / ".gunicorn.log", "w"),  # noqa: SIM115
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("gunicorn did not start; see bench/.gunicorn.log")


def worker_rss_mb(master: int) -> list[float]:
    out = subprocess.run(["ps", "--ppid", str(master), "-o", "rss="], capture_output=True, text=True).stdout.split()
    return [int(x) / 1024 for x in out]


def server_cpu_seconds(master: int) -> tuple[float, float | None]:
    """(CPU seconds used so far by the gunicorn workers, by every process of the local
    PostgreSQL server or None if none is visible): user + system time from /proc. A row's
    difference, divided by its requests, is what one request costs the server's CPUs.

    Processes that have exited count too: a worker that gunicorn recycled (max_requests) and
    a backend whose pooled connection was closed are in their parent's "children" times once
    reaped (the gunicorn master's, the postmaster's), so a row during which one ends does not
    come out short."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(pid) -> tuple[float, float]:
        """(own, reaped children's) CPU seconds of a process."""
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick

    workers = subprocess.run(["ps", "--ppid", str(master), "-o", "pid="], capture_output=True, text=True).stdout.split()
    try:
        app = times(master)[1]  # the workers that exited; the master's own time is not a request's
    except (OSError, IndexError, ValueError):
        app = 0.0
    for pid in workers:
        try:
            app += times(pid)[0]
        except (OSError, IndexError, ValueError):
            pass
    database, seen = 0.0, False
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            database += sum(times(pid))
            seen = True
        except (OSError, IndexError, ValueError):
            pass
    return app, (database if seen else None)


def run_wrk(wrk: str, script: str, path: str, env: dict, duration: int, connections: int) -> dict:
    cmd = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA / script),
        f"http://127.0.0.1:{PORT}{path}",
    ]
    out = subprocess.run(
        cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=duration + 60, cwd=ROOT
    )
    match = re.search(r"^JSON(\{.*\})$", out.stdout, re.M)
    if not match:
        print(out.stdout, out.stderr)
        return {"rps": 0, "p50": 0, "p99": 0, "errors": -1, "requests": 0}
    data = json.loads(match.group(1))
    seconds = data["duration_us"] / 1e6
    errors = (
        data["errors_status"]
        + data["errors_connect"]
        + data["errors_timeout"]
        + data["errors_read"]
        + data["errors_write"]
    )
    return {
        "rps": data["requests"] / seconds if seconds else 0,
        "p50": data["p50"] / 1000,
        "p99": data["p99"] / 1000,
        "errors": errors,
        "requests": data["requests"],
    }


def measure(proc: subprocess.Popen, wrk: str, script: str, path: str, env: dict, duration: int, connections: int):
    """One wrk run against the server `proc`, with the server's CPU milliseconds per request:
    `cpu_app` (the gunicorn workers) and `cpu_db` (PostgreSQL; None when it runs elsewhere)."""
    before = server_cpu_seconds(proc.pid)
    measured = run_wrk(wrk, script, path, env, duration, connections)
    after = server_cpu_seconds(proc.pid)
    done = max(measured["requests"], 1)
    measured["cpu_app"] = 1000 * (after[0] - before[0]) / done
    db_before, db_after = before[1], after[1]
    measured["cpu_db"] = None if db_before is None or db_after is None else 1000 * (db_after - db_before) / done
    return measured


# The highest Dispatch or Cancel rate a run is provisioned for: each request takes one fresh
# order, and a run that used up its slice would answer 409s.
FRESH_RATE = 1600


def cpu_cell(r: dict) -> str:
    """'7.5 (4.9 + 2.6)': the server's CPU milliseconds per request of the median run, the
    gunicorn workers' and PostgreSQL's (all its processes: WAL writer and checkpointer too)."""
    if r.get("cpu_db") is None:
        return f"{r['cpu_app']:.2f} (app only)"
    return f"{r['cpu_app'] + r['cpu_db']:.2f} ({r['cpu_app']:.2f} + {r['cpu_db']:.2f})"


def machine() -> str:
    """CPU model, cores, kernel and Python of this machine, as one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded database of that size")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per row; the table shows the median run and the range"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words: run only the rows whose name contains one of them (the reference row "
        "always runs); the table is printed, not written to results/",
    )
    args = parser.parse_args()

    wrk = ensure_wrk()
    db_url = prepare_database(args.orders, args.reuse)
    warmed = settle(db_url)
    server = server_settings(db_url)
    print(f"== {server}; {warmed}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # the runs' id files
    data = fixtures_with_fresh_orders(db_url, workdir, args.repeat, args.duration)
    token = data["token"]
    base_env = {"BENCH_TOKEN": token, "BENCH_IDS": str(workdir / "ids.txt")}
    tag = data["tag"]
    scenarios = [
        ("Reference: GET /api/v1/me", "get_path.lua", "/api/v1/me", {}),
        ("Get Order", "get_order.lua", "/", {}),
        ("List Orders (50, status+tag)", "get_path.lua", f"/api/v1/order?pageSize=50&status=1&tagId={tag}", {}),
        (
            "List Orders (50, deep cursor)",
            "get_path.lua",
            f"/api/v1/order?pageSize=50&status=1&tagId={tag}&cursor={data['deep_cursor']}",
            {},
        ),
        ("Create Order", "create_order.lua", "/api/v1/order", {}),
        (
            "Dispatch",
            "transition.lua",
            "/",
            {"BENCH_IDS": str(workdir / "dispatch_ids_{run}.txt"), "BENCH_VERB": "dispatch"},
        ),
        ("Cancel", "transition.lua", "/", {"BENCH_IDS": str(workdir / "cancel_ids_{run}.txt"), "BENCH_VERB": "cancel"}),
        ("Webform page (GET /f/demo-ev-charger/)", "get_path.lua", "/f/demo-ev-charger/", {}),
    ]
    if args.only:
        words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        scenarios = [s for i, s in enumerate(scenarios) if i == 0 or any(w in s[0].lower() for w in words)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    explain = subprocess.run(
        [PY, "bench/explain.py"], env={**os.environ, **django_env(db_url)}, cwd=ROOT, capture_output=True, text=True
    )
    plans_file = RESULTS / f"{args.orders}-plans.txt"
    if args.only:  # a check of one change: nothing under results/
        plans_file = Path(tempfile.gettempdir()) / plans_file.name
    plans_file.write_text(explain.stdout + explain.stderr)
    plans_verdict = explain.stdout.strip().splitlines()[-1] if explain.stdout.strip() else "bench/explain.py failed"
    print(f"== query plans: {plans_verdict} ({plans_file})")
    load_before = os.getloadavg()
    proc = start_gunicorn(db_url)
    rows = []
    try:
        for name, script, path, extra in scenarios:
            # A short warm-up of the reads, with as many connections as the run, so that every
            # worker process has its pooled connections and (List) the cached count of the list:
            # the rows measure the steady state, not each worker's first COUNT.
            if script in ("get_path.lua", "get_order.lua"):
                run_wrk(wrk, script, path, {**base_env, **extra, "BENCH_WARMUP": "1"}, 3, args.connections)
            runs = []
            for run in range(args.repeat):
                measured = measure(
                    proc,
                    wrk,
                    script,
                    path,
                    {**base_env, **{k: v.format(run=run) for k, v in extra.items()}},
                    args.duration,
                    args.connections,
                )
                runs.append(measured)
            runs.sort(key=lambda r: r["rps"])
            result = {**runs[len(runs) // 2], "min": runs[0]["rps"], "max": runs[-1]["rps"]}
            result["errors"] = sum(r["errors"] for r in runs)
            rows.append((name, result))
            print(
                f"  {name:<42} {result['rps']:>9.1f} req/s  p50 {result['p50']:>7.1f} ms  p99 {result['p99']:>7.1f} ms  errors {result['errors']}"
                f"  CPU/request {cpu_cell(result)}",
                flush=True,
            )
        rss = worker_rss_mb(proc.pid)
        load_after = os.getloadavg()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    lines = [
        f"# Benchmark: {args.orders:,} orders",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}",
        f"- machine: {machine()}",
        f"- server: gunicorn ({'gunicorn.conf.py' if (ROOT / 'gunicorn.conf.py').exists() else 'default args'}), DEBUG off, PostgreSQL on 127.0.0.1",
        f"- {server}; {warmed}",
        f"- load: wrk, 2 threads, {args.connections} connections, {args.repeat} runs of {args.duration} s per row (p50 and p99 of the median run); filtered list matches {data['filtered']:,} orders; table holds {data['total']:,} orders (with the fresh created orders Dispatch and Cancel use)",
        f"- machine load average (1/5/15 min) before the run {'/'.join(f'{x:.2f}' for x in load_before)}, "
        f"after {'/'.join(f'{x:.2f}' for x in load_after)} (other work on the machine depresses the figures)",
        f"- query plans of every List Orders filter: {plans_verdict} (bench/explain.py, {plans_file.name})",
        "",
        f"| endpoint | requests/s (median of {args.repeat}) | range of the runs | p50 ms | p99 ms | errors | server CPU ms/request (app + PostgreSQL) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['rps']:.1f} | {r['min']:.0f}-{r['max']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | {cpu_cell(r)} |"
        )
    lines += ["", "Worker memory after the run (RSS): " + ", ".join(f"{m:.0f} MB" for m in rss)]
    table = "\n".join(lines)
    print()
    print(table)
    if args.only:
        return
    out = RESULTS / f"{args.orders}.md"
    out.write_text(table + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
