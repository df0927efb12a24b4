"""The Alembic migrations build exactly the schema the models describe (on both databases)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.core.db import make_engine
from portal.models import Base

# Full-text search lives outside the models on purpose (see portal/search.py).
SEARCH_ONLY = ("issues_fts", "search_vector", "search_terms")
# So does the spatial index, which only some databases have (see portal/core/spatial_index.py):
# SQLite's R*Tree and its shadow tables; PostGIS's geom column, its index and its own table.
SPATIAL_ONLY = ("issue_spots", "'geom'", "ix_issue_portals_geom", "spatial_ref_sys")


@pytest.mark.filterwarnings("ignore:Did not recognize type .geometry.")
def test_migrated_database_matches_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    remaining = [d for d in diff if not any(name in str(d) for name in SEARCH_ONLY + SPATIAL_ONLY)]
    assert remaining == []
