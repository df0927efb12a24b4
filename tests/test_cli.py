"""The `portal` command: tenants load/list/dump round-trip; errors are one clear line."""

from __future__ import annotations

import json
import subprocess

from tests.cli_run import run_portal
from tests.worlds import write_files


def portal(settings, *args: str, tenants_dir=None) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin",
           "THEMES_DIR": str(settings.themes_dir),
           "TENANTS_DIR": str(tenants_dir or settings.tenants_dir)}
    return run_portal(list(args), env)


def test_tenants_load_list_and_dump_round_trip(settings, db, tmp_path):
    write_files(tmp_path / "tenants")
    loaded = portal(settings, "tenants", "load", tenants_dir=tmp_path / "tenants")
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 3 bodies and 3 portals" in loaded.stdout
    again = portal(settings, "tenants", "load", tenants_dir=tmp_path / "tenants")
    assert again.returncode == 0
    listed = portal(settings, "tenants", "list").stdout
    assert "northside" in listed and "northside.example.test" in listed
    out = tmp_path / "dumped"
    dumped = portal(settings, "tenants", "dump", "northside", "--path", str(out))
    assert dumped.returncode == 0, dumped.stderr
    data = json.loads((out / "portal.json").read_text())
    assert data["slug"] == "northside" and data["languages"] == ["en", "es"]
    assert data["embed_origins"] == ["http://127.0.0.2:8766"]  # normalised on load


def test_errors_are_one_line_not_a_traceback(settings, db, tmp_path):
    bad = tmp_path / "bad"
    write_files(bad)
    portal_json = bad / "portals" / "northside" / "portal.json"
    data = json.loads(portal_json.read_text())
    data["tokens"] = {"color-text": "#777777", "color-bg": "#888888"}
    portal_json.write_text(json.dumps(data))
    result = portal(settings, "tenants", "load", tenants_dir=bad)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "color-text #777777 on color-bg #888888" in result.stderr
    assert "4.5:1" in result.stderr


def test_dump_of_an_unknown_portal_says_so(settings, db):
    result = portal(settings, "tenants", "dump", "nobody")
    assert result.returncode == 1 and "no portal called 'nobody'" in result.stderr


def test_import_of_a_missing_file_says_so(settings, db):
    result = portal(settings, "import-issues", "/nope.csv", "--tenant", "x")
    assert result.returncode == 1 and "no such file: /nope.csv" in result.stderr


def test_outbox_failed_lists_unsent_mail_with_its_error(settings, db, world):
    from datetime import timedelta

    from portal.mail import outbox
    from portal.models import OutboxMessage, utcnow

    with db.session() as s:
        s.add(OutboxMessage(key="k:stopped", kind="watch_notice", recipient="gone@example.org",
                            locale="en", subject="S", body_text="B", attempts=outbox.MAX_ATTEMPTS,
                            last_error="compose: ValueError: Header values may not contain\n"
                                       "linefeed", next_attempt_at=utcnow()))
        s.add(OutboxMessage(key="k:retrying", kind="signin", recipient="late@example.org",
                            locale="en", subject="S", body_text="B", attempts=2,
                            last_error="SMTPDataError: 451 try later",
                            next_attempt_at=utcnow() + timedelta(minutes=3)))
        s.add(OutboxMessage(key="k:sent", kind="signin", recipient="fine@example.org",
                            locale="en", subject="S", body_text="B", attempts=1,
                            sent_at=utcnow(), last_error=""))
        s.add(OutboxMessage(key="k:due", kind="signin", recipient="new@example.org",
                            locale="en", subject="S", body_text="B"))
    result = portal(settings, "outbox", "failed")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "kind", "recipient", "tries", "state", "next", "try",
                                "last", "error"]
    stopped = next(line for line in lines if "gone@example.org" in line)
    assert "watch_notice" in stopped and f"{outbox.MAX_ATTEMPTS}/{outbox.MAX_ATTEMPTS}" in stopped
    assert "stopped" in stopped and "may not contain linefeed" in stopped  # one line each
    retrying = next(line for line in lines if "late@example.org" in line)
    assert "2/12" in retrying and "retrying" in retrying and "451 try later" in retrying
    assert "fine@example.org" not in result.stdout and "new@example.org" not in result.stdout
    assert lines[-1] == "unsent messages with errors: 2"


def test_the_operators_language_holds_for_one_run_only(settings, db):
    # main() runs many times in one process (here, and in any script that calls it): a French
    # operator's run speaks French, and leaves the language of the code around it as it was.
    from portal.core.i18n import current_locale

    before = current_locale()
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    french = run_portal(["tenants", "dump", "nobody"], {**env, "LANG": "fr_FR.UTF-8"})
    assert french.returncode == 1 and "aucun portail nommé 'nobody'" in french.stderr
    assert current_locale() == before
    plain = run_portal(["tenants", "dump", "nobody"], env)
    assert plain.returncode == 1 and "no portal called 'nobody'" in plain.stderr
