"""Full-text search over issues: FTS5 on SQLite, a generated tsvector on PostgreSQL.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE issues_fts USING fts5("
            "title, description, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "ALTER TABLE issues ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))) "
            "STORED"
        )
        op.execute("CREATE INDEX ix_issues_search_vector ON issues USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE issues_fts")
    else:
        op.execute("DROP INDEX ix_issues_search_vector")
        op.execute("ALTER TABLE issues DROP COLUMN search_vector")
