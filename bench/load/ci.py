"""CI's short version: the 15 s load test and the quick SMTP outage, one after the other.

    flock /tmp/tenantry-heavy.lock .venv/bin/python bench/load/ci.py

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) for the two throwaway databases,
and nothing else running on this machine's ports 19000-19999 that it picks. About two
minutes on 2 cores. Each script prints its own PASS/FAIL with its figures; this prints a
closing line ``N passed, N failed`` and exits non-zero if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = [
    ("load test, 12 users x 15 s", [HERE / "load_test.py", "--quick"]),
    ("SMTP down 10 s, nothing lost", [HERE / "fault_smtp.py", "--quick"]),
]


def main() -> int:
    passed, failed = [], []
    for name, command in STEPS:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, *map(str, command)], check=False).returncode
        seconds = time.monotonic() - started
        (passed if code == 0 else failed).append(f"{name} ({seconds:.0f} s)")
    print()
    for name in passed:
        print(f"passed: {name}")
    for name in failed:
        print(f"FAILED: {name}")
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
