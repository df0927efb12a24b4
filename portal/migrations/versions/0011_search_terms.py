"""SQLite: the words the search index holds, in a table of their own, for prefix searches.

FTS5 answers a whole word lazily, newest issue first, in well under a millisecond at a million
issues, but a prefix (`"hydrant"*`) by merging every matching word's full list of issues first:
60 ms for a word in most issues, and as many megabytes per search in flight. With the words in
a B-tree, a prefix becomes an OR of the whole words that start with it. Filled here from the
index itself (`fts5vocab`), then by `portal.reports.search` on every write. PostgreSQL's GIN
index answers prefixes itself.

Revision ID: 0011_search_terms
Revises: 0010_spatial_index
"""

from alembic import op

revision = "0011_search_terms"
down_revision = "0010_spatial_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID")
    op.execute("CREATE VIRTUAL TABLE temp.issues_fts_words USING fts5vocab(main, 'issues_fts', "
               "'row')")
    op.execute("INSERT INTO search_terms SELECT term FROM temp.issues_fts_words")
    op.execute("DROP TABLE temp.issues_fts_words")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_terms")
