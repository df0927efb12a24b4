"""Run the `portal` command in this process, as an operator's shell would run it.

A fresh interpreter per command cost one to two seconds (far more on a loaded machine), and the
suite runs many of them. `portal.cli.main` is what `python -m portal.cli` calls, so calling it
here with the same arguments and the same environment gives the same output and exit code:
the environment is replaced for the call (nothing of the test runner's own leaks in, as with
the subprocess's explicit env) and restored after it, and stdout and stderr are captured apart.
Tests whose point is a real process (signals, `serve`, several workers) still start one.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from unittest import mock

from portal.cli import main


def run_portal(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`portal *args` with exactly `env` as its environment: returncode, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict("os.environ", env, clear=True), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors and --help end this way
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=err)
    return subprocess.CompletedProcess(["portal", *args], code, out.getvalue(), err.getvalue())
