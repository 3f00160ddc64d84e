"""How cheap can a List of 50 orders, or a state change, be on this stack? Serves the bench
database with the real app plus the views of `bench/ceiling_urls.py` (the same gunicorn
settings as `make bench`), and drives, in turn, round after round: the framework floor
(`GET /api/v1/me`), the real List row (`?pageSize=50&status=1&tagId=<tag>`), the same request
answered with less and less of the work (`ids`, `rows`, `pgjson`), the least state change
(lock, one event, the write: `ceilingwrite`), the real Create Order row and the least create
(the same body, unvalidated: the order and its event written), then the real Dispatch and
Cancel rows (each on fresh created orders, as in `make bench`). Prints req/s, p99, the
server's CPU per request (gunicorn workers + PostgreSQL) and each row's share of the floor of
its round.

    python bench/ceiling.py --orders 1000000          # a database seeded by make bench
    python bench/ceiling.py --orders 10000 --rounds 2 --duration 5

Only 127.0.0.1 is contacted; every wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py)

# (name, wrk script, path, extra environment): {run} is the round.
ROWS = [
    ("floor: GET /api/v1/me", "get_path.lua", "/api/v1/me", {}),
    ("List Orders (the app)", "get_path.lua", "/api/v1/order?pageSize=50&status=1&tagId={tag}", {}),
    ("ids only, answered as a count", "get_path.lua", "/api/v1/_ceiling/ids?status=1&tagId={tag}", {}),
    ("ids + rows read, answered as a count", "get_path.lua", "/api/v1/_ceiling/rows?status=1&tagId={tag}", {}),
    ("ids + page JSON written by PostgreSQL", "get_path.lua", "/api/v1/_ceiling/pgjson?status=1&tagId={tag}", {}),
    # The least change runs on the orders Dispatch then takes (it leaves them created).
    (
        "least change: lock + 1 event, no answer",
        "transition.lua",
        "/",
        {"BENCH_IDS": "dispatch_ids_{run}.txt", "BENCH_VERB": "ceilingwrite"},
    ),
    ("Create Order (the app)", "create_order.lua", "/", {}),
    (
        "least create: body unvalidated, order + 1 event",
        "create_order.lua",
        "/",
        {"BENCH_CREATE_PATH": "/api/v1/_ceiling/create"},
    ),
    ("Dispatch (the app)", "transition.lua", "/", {"BENCH_IDS": "dispatch_ids_{run}.txt", "BENCH_VERB": "dispatch"}),
    ("Cancel (the app)", "transition.lua", "/", {"BENCH_IDS": "cancel_ids_{run}.txt", "BENCH_VERB": "cancel"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="the bench database (installer_bench_<N>)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated words: the rows whose name has one (and the floor)")
    args = parser.parse_args()
    words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    rows = [row for i, row in enumerate(ROWS) if i == 0 or not words or any(w in row[0].lower() for w in words)]

    wrk = run.ensure_wrk()
    db_url = run.prepare_database(args.orders, reuse=True)
    print(f"== {run.settle(db_url)}")
    workdir = Path(tempfile.mkdtemp(prefix="ceiling-"))
    if any(word in name for name, *_ in rows for word in ("Dispatch", "Cancel")):
        data = run.fixtures_with_fresh_orders(db_url, workdir, args.rounds, args.duration)
    else:
        data = run.fixtures(db_url, workdir, args.rounds)
    env = {"BENCH_TOKEN": data["token"]}
    app_env = run.django_env

    def ceiling_env(url: str) -> dict:
        return {**app_env(url), "DJANGO_SETTINGS_MODULE": "bench.ceiling_settings"}

    run.django_env = ceiling_env  # start_gunicorn serves the experiment's URLs too
    proc = run.start_gunicorn(db_url)
    results: dict[str, list[dict]] = {name: [] for name, *_ in rows}
    try:
        for name, script, path, _ in rows:  # each read answers, and every worker has warmed up
            if script != "get_path.lua":
                continue
            path = path.format(tag=data["tag"])
            body = urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{run.PORT}{path}", headers={"Authorization": f"Bearer {data['token']}"}
                )
            ).read()
            print(f"   {name}: {len(body):,} bytes")
            run.run_wrk(wrk, "get_path.lua", path, {**env, "BENCH_WARMUP": "1"}, 2, args.connections)
        for round_ in range(args.rounds):
            floor = None
            for name, script, path, extra in rows:
                extra = {k: str(workdir / v.format(run=round_)) if k == "BENCH_IDS" else v for k, v in extra.items()}
                measured = run.measure(
                    proc, wrk, script, path.format(tag=data["tag"]), {**env, **extra}, args.duration, args.connections
                )
                cpu = measured["cpu_app"] + (measured["cpu_db"] or 0)
                floor = floor or (measured["rps"], cpu)
                measured["share"] = measured["rps"] / (floor[0] or 1)
                # With both cores busy req/s ~ cores / CPU per request: the floor's CPU over this
                # row's is the share the row would have if the server were never idle.
                measured["cpu_share"] = floor[1] / (cpu or 1)
                results[name].append(measured)
                print(
                    f"   round {round_ + 1}: {name:<40} {measured['rps']:8.1f} req/s  p99 {measured['p99']:6.1f} ms"
                    f"  errors {measured['errors']}  CPU {run.cpu_cell(measured)} ms  {measured['share']:.0%} of the floor"
                    f" ({measured['cpu_share']:.0%} by CPU)",
                    flush=True,
                )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    print()
    print(
        "| request | req/s (median) | p99 ms | share of its round's floor (median, range) "
        "| server CPU ms/request | floor's CPU / this CPU (median, range) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        runs = sorted(runs, key=lambda r: r["rps"])
        mid = runs[len(runs) // 2]
        shares = sorted(r["share"] for r in runs)
        by_cpu = sorted(r["cpu_share"] for r in runs)
        print(
            f"| {name} | {mid['rps']:.0f} | {mid['p99']:.1f} | {shares[len(shares) // 2]:.0%} "
            f"({shares[0]:.0%}-{shares[-1]:.0%}) | {run.cpu_cell(mid)} | {by_cpu[len(by_cpu) // 2]:.0%} "
            f"({by_cpu[0]:.0%}-{by_cpu[-1]:.0%}) |"
        )


if __name__ == "__main__":
    main()
