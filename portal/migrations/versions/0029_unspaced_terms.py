"""Place names written without spaces (Chinese, Japanese, Korean) get index rows from every
letter on, so any part of a name finds it ("图书馆" finds "市立图书馆"). Places added from now
on get them when they are added (`portal.places.words.index_terms`); this gives the places
already there theirs. Going down removes the endings again (a whole word that is also the
ending of another word of the same place goes too: the place is still found by the longer).

The rule is copied here, not imported: a migration must keep doing what it did when it was
written.

Revision ID: 0029_unspaced_terms
Revises: 0028_importspeed3
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0029_unspaced_terms"
down_revision = "0028_importspeed3"
branch_labels = None
depends_on = None

UNSPACED = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
                      "\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
INSIDE_SYLLABLE = re.compile("[\u1160-\u11ff]")  # a folded Hangul syllable's vowel, final
MAX_UNSPACED = 24
FIRST = 0x1100  # no unspaced letter comes before this one
TERMS = sa.table("place_terms", sa.column("tenant_id", sa.Integer), sa.column("rank", sa.Integer),
                 sa.column("term", sa.String), sa.column("place_id", sa.Integer))


def _first_letter(bind: sa.Connection) -> sa.ColumnElement:
    # The code point of a term's first letter, in each database's own words.
    name = "unicode" if bind.dialect.name == "sqlite" else "ascii"
    return getattr(sa.func, name)(TERMS.c.term)


def _unspaced_rows(bind: sa.Connection) -> list:
    rows = bind.execute(sa.select(TERMS).where(_first_letter(bind) >= FIRST)).all()
    return [r for r in rows if UNSPACED.search(r.term)]


def upgrade() -> None:
    bind = op.get_bind()
    rows = _unspaced_rows(bind)
    have = {(r.tenant_id, r.rank, r.term, r.place_id) for r in rows}
    new = set()
    for r in rows:
        starts = [i for i, c in enumerate(r.term) if not INSIDE_SYLLABLE.match(c)]
        for i in starts[1:MAX_UNSPACED]:
            key = (r.tenant_id, r.rank, r.term[i:], r.place_id)
            if key not in have:
                new.add(key)
    if new:
        op.bulk_insert(TERMS, [dict(zip(("tenant_id", "rank", "term", "place_id"), k,
                                        strict=True)) for k in sorted(new)])


def downgrade() -> None:
    # An ending is a row whose place has a longer term ending with it; whole words stay.
    bind = op.get_bind()
    rows = _unspaced_rows(bind)
    by_place: dict[tuple, list[str]] = {}
    for r in rows:
        by_place.setdefault((r.tenant_id, r.rank, r.place_id), []).append(r.term)
    for (tenant_id, rank, place_id), terms in by_place.items():
        endings = [t for t in terms if any(o != t and o.endswith(t) for o in terms)]
        if endings:
            bind.execute(sa.delete(TERMS).where(
                TERMS.c.tenant_id == tenant_id, TERMS.c.rank == rank,
                TERMS.c.place_id == place_id, TERMS.c.term.in_(endings)))
