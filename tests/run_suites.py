"""Run the whole test suite on SQLite, then again on a throwaway PostgreSQL server.

This is what `make test` (and so CI) runs. It fails if either run fails or if a run
collected no tests at all (pytest's exit code 5 is not a pass).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.pg_cluster import running_cluster


def pytest(label: str, env: dict[str, str], extra: list[str]) -> int:
    print(f"\n=== test suite on {label} ===", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *extra], env=env)
    if code == 5:
        print(f"no tests ran on {label}: that is a failure", flush=True)
        return 1
    return code


def main(argv: list[str]) -> int:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    results = {"sqlite": pytest("SQLite", env, argv)}
    with running_cluster() as url:
        results["postgresql"] = pytest("PostgreSQL", {**env, "TEST_DATABASE_URL": url}, argv)
    print("\n=== summary ===")
    for name, code in results.items():
        print(f"{name}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
