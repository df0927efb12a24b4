"""Migration 0014_places goes down and up again on a database of its own (SQLite here; the
PostgreSQL run uses a fresh database on the same server)."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, inspect, text

from portal.core.migrate import config, upgrade


def _fresh_url(tmp_path) -> str:  # noqa: ANN001
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    name = f"places_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def test_places_migration_downgrades_and_upgrades_again(tmp_path):
    from alembic import command

    url = _fresh_url(tmp_path)
    upgrade(url)
    command.downgrade(config(url), "0013_import_fidelity")  # the migration before this one
    engine = create_engine(url)
    tables = inspect(engine).get_table_names()
    assert "places" not in tables and "place_terms" not in tables
    assert "place_name" not in {c["name"] for c in inspect(engine).get_columns("issues")}
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    assert {"places", "place_terms", "place_grams"} <= set(inspect(engine).get_table_names())
    assert "geocoder" in {c["name"] for c in inspect(engine).get_columns("tenants")}
    engine.dispose()
