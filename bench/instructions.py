"""Python instructions per request, counted by valgrind (callgrind), for one API path against a
seeded bench database: a figure that does not move with the machine's load, unlike wrk's.

python bench/instructions.py "POST /api/v1/order/{created}/dispatch"      # paths as profile_request.py
python bench/instructions.py "/api/v1/order?pageSize=50&status=1&tagId={tag}" --requests 100

Runs the in-process requests of `bench/profile_request.py` twice under callgrind, with
`--warmup` requests and with `--warmup + --requests`, and prints the difference divided by
`--requests`: the instructions of this process per request (Django, DRF, psycopg and the
project's code), without PostgreSQL's. Each run takes about 30-60 s (callgrind runs code about
50 times slower). Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNNER = r"""
import os, sys
sys.argv = [sys.argv[0], os.environ["BENCH_PATH"], "1"]
path = os.path.join(os.environ["BENCH_ROOT"], "bench", "profile_request.py")
setup = open(path).read().split("for i in range(20):")[0]  # the setup and req(), not the timing
scope = {"__name__": "instructions", "__file__": path}
exec(compile(setup, path, "exec"), scope)
for i in range(int(os.environ["BENCH_N"])):
    scope["req"](i)
"""


def count(path: str, n: int, env: dict, workdir: Path) -> int:
    out = workdir / f"callgrind.{n}.out"
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", RUNNER],
        env={**env, "BENCH_PATH": path, "BENCH_N": str(n), "BENCH_ROOT": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if result.returncode != 0 or not match:
        sys.exit(f"callgrind failed:\n{result.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    env = {**os.environ}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/installer_bench_10000")
    with tempfile.TemporaryDirectory() as tmp:
        base = count(args.path, args.warmup, env, Path(tmp))
        total = count(args.path, args.warmup + args.requests, env, Path(tmp))
    per_request = (total - base) / args.requests
    print(f"{args.path}: {per_request / 1e6:.2f} M instructions per request ({args.requests} requests, callgrind)")


if __name__ == "__main__":
    main()
