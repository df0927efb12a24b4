"""Migration 0028_importspeed3: a place's index rows keep their foreign key to the place and
lose the one to `tenants`; down puts it back and up takes it away again (on a database of
its own: SQLite here, a fresh database on the same server for the PostgreSQL run)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from portal.core.migrate import config, upgrade
from tests.test_places_migration import _fresh_url


def _referred(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        return {fk["referred_table"]: fk["options"].get("ondelete", "")
                for fk in inspect(engine).get_foreign_keys("place_terms")}
    finally:
        engine.dispose()


def test_place_terms_lose_their_tenant_key_and_get_it_back_on_the_way_down(tmp_path):
    url = _fresh_url(tmp_path)
    upgrade(url)
    assert _referred(url) == {"places": "CASCADE"}
    command.downgrade(config(url), "0027_settings_stamp")
    assert _referred(url) == {"places": "CASCADE", "tenants": "CASCADE"}
    engine = create_engine(url)
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("place_terms")}
    engine.dispose()
    assert "ix_place_terms_place_id" in indexes
    upgrade(url)
    assert _referred(url) == {"places": "CASCADE"}
