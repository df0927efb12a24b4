"""The Alembic migrations build exactly the schema the models describe (on both databases)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.core.db import make_engine
from portal.models import Base

# Full-text search lives outside the models on purpose (see portal/search.py).
SEARCH_ONLY = ("issues_fts", "search_vector")


def test_migrated_database_matches_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    remaining = [d for d in diff if not any(name in str(d) for name in SEARCH_ONLY)]
    assert remaining == []
