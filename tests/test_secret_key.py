"""The server will not run on a missing, short or published secret outside development mode;
development mode (`REPORTAL_ENV=development`) makes one and keeps it in `var/`."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from portal import cli
from portal.app import create_app
from portal.core import catalogs
from portal.core import settings as settings_module
from portal.core.errors import ConfigError
from portal.core.settings import Settings
from tests.conftest import client_for
from tests.staff_support import sign_in

REFUSAL = "portal: SECRET_KEY must be at least 32 random bytes"
GOOD_SECRET = "k" * 20 + "-9Zq_" * 5 + "abc"  # 48 characters


@pytest.fixture
def serve(settings, monkeypatch):  # noqa: ANN001, ANN201
    """Run `portal serve` in-process with an environment; uvicorn is recorded, not started."""
    started = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append(app))
    monkeypatch.setattr(catalogs, "compile_all", lambda: None)

    def run(*args: str, **env: str) -> tuple[int, list]:
        for name in ("SECRET_KEY", "REPORTAL_ENV", "HTTPS_ONLY_COOKIES"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
        monkeypatch.setenv("STATIC_BUILD_DIR", str(settings.static_build_dir))
        monkeypatch.setenv("LANG", "C")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return cli.main(list(args or ["serve"])), started

    return run


def _one_line(capsys) -> str:  # noqa: ANN001
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_serve_refuses_to_start_without_a_secret_key(serve, db, capsys):
    code, started = serve()
    assert code == 1 and started == []
    assert _one_line(capsys).startswith(REFUSAL)


@pytest.mark.parametrize("secret", ["short", "dev-secret-change-me", GOOD_SECRET[:42]])
def test_serve_refuses_a_short_or_published_secret(serve, db, capsys, secret):
    code, started = serve(SECRET_KEY=secret)
    assert code == 1 and started == []
    assert _one_line(capsys).startswith(REFUSAL)


def test_serve_starts_with_a_proper_secret(serve, db, world):
    code, started = serve(SECRET_KEY=GOOD_SECRET)
    assert code == 0 and len(started) == 1


def test_the_worker_refuses_too(serve, db, capsys):
    code, _ = serve("worker", "--once")
    assert code == 1 and _one_line(capsys).startswith(REFUSAL)


def test_create_app_refuses_the_default_settings(settings):
    for secret in ("", "dev-secret-change-me"):
        with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 random bytes"):
            create_app(dataclasses.replace(settings, secret_key=secret))


def test_development_mode_makes_a_secret_once_and_keeps_it(tmp_path, monkeypatch):
    kept = tmp_path / "var" / "dev-secret-key"
    monkeypatch.setattr(settings_module, "DEV_SECRET_FILE", kept)
    first = Settings.from_env({"REPORTAL_ENV": "development"})
    assert len(first.secret_key) >= 43 and first.secret_key != "dev-secret-change-me"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert Settings.from_env({"REPORTAL_ENV": "development"}).secret_key == first.secret_key
    first.require_secret()  # no complaint in development
    # An explicit key wins, and nothing is written for it.
    assert Settings.from_env({"REPORTAL_ENV": "development",
                              "SECRET_KEY": "mine"}).secret_key == "mine"


def test_serve_runs_in_development_mode_without_a_secret(serve, db, tmp_path, monkeypatch):
    monkeypatch.setattr(settings_module, "DEV_SECRET_FILE", tmp_path / "dev-secret-key")
    code, started = serve(REPORTAL_ENV="development")
    assert code == 0 and len(started) == 1
    assert (tmp_path / "dev-secret-key").is_file()


def test_sign_in_works_over_plain_http_in_development_mode(settings, db, world):
    dev = dataclasses.replace(settings, development=True, secret_key="",
                              https_only_cookies=None)
    assert dev.https_only_cookies is False and len(dev.secret_key) >= 43
    app = create_app(dev)
    browser = client_for(app, "northside.reportal.test")
    sign_in(browser, db, "dev@example.org")
    assert browser.get("/account").status_code == 200
    app.state.db.engine.dispose()


@pytest.mark.parametrize(("env", "secure"), [
    ({}, True),
    ({"HTTPS_ONLY_COOKIES": "0"}, False),
    ({"REPORTAL_ENV": "development"}, False),
    ({"REPORTAL_ENV": "development", "HTTPS_ONLY_COOKIES": "1"}, True),
])
def test_secure_cookies_are_the_default_outside_development(env, secure, tmp_path,
                                                            monkeypatch):
    monkeypatch.setattr(settings_module, "DEV_SECRET_FILE", tmp_path / "dev-secret-key")
    assert Settings.from_env(env).https_only_cookies is secure


def test_a_bad_https_only_cookies_value_is_one_line(serve, db, capsys):
    code, _ = serve(SECRET_KEY=GOOD_SECRET, HTTPS_ONLY_COOKIES="maybe")
    assert code == 1
    assert "HTTPS_ONLY_COOKIES must be 1 or 0" in _one_line(capsys)
