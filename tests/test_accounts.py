"""Giving people roles from the command line, and the schema that holds them."""

from __future__ import annotations

import subprocess

from sqlalchemy import inspect, select

from portal.models import Role, User
from tests.cli_run import run_portal


def portal(settings, *args: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin",
           "THEMES_DIR": str(settings.themes_dir), "TENANTS_DIR": str(settings.tenants_dir)}
    return run_portal(list(args), env)


def test_users_add_gives_roles_in_several_places(settings, db, world):
    first = portal(settings, "users", "add", "Crew@City.test", "--body", "city-works",
                   "--role", "staff")
    assert first.returncode == 0, first.stderr
    assert "crew@city.test is now staff of body city-works" in first.stdout
    assert portal(settings, "users", "add", "crew@city.test", "--tenant", "northside",
                  "--role", "moderator").returncode == 0
    again = portal(settings, "users", "add", "crew@city.test", "--tenant", "northside",
                   "--role", "moderator")
    assert again.returncode == 0  # idempotent
    with db.session() as s:
        user = s.scalars(select(User)).one()
        roles = {(r.role, r.body_id is not None, r.tenant_id is not None)
                 for r in s.scalars(select(Role).where(Role.user_id == user.id))}
    assert roles == {("staff", True, False), ("moderator", False, True)}
    listed = portal(settings, "users", "list").stdout
    assert "staff@body:city-works" in listed and "moderator@portal:northside" in listed
    removed = portal(settings, "users", "remove", "crew@city.test", "--body", "city-works",
                     "--role", "staff")
    assert removed.returncode == 0 and "removed 1" in removed.stdout


def test_users_add_refuses_mismatched_or_unknown_places(settings, db, world):
    cases = [
        (["--body", "city-works", "--role", "admin"], "belongs to a portal"),
        (["--tenant", "northside", "--role", "staff"], "belongs to a body"),
        (["--body", "no-such-body", "--role", "staff"], "no body called"),
        (["--tenant", "nowhere", "--role", "admin"], "no portal called"),
        (["--role", "admin"], "needs EMAIL"),
    ]
    for args, message in cases:
        result = portal(settings, "users", "add", "x@example.org", *args)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    with db.session() as s:
        assert s.scalars(select(Role)).all() == []


def test_the_accounts_migration_sits_beside_the_other_branch(db):
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "roles", "login_tokens", "flags", "moderation_actions", "hidden_photos",
            "issue_duplicates", "update_authors"} <= tables
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("issues")}
    assert "ix_issues_photo" in indexes
