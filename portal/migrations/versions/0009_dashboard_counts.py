"""Dashboard figures from maintained rows: counts by status and request type, reports and
closures per week, and histograms of the times to acknowledge and to close, per portal and
body. Database triggers keep them in the writing transaction, whatever wrote the issue, its
history or its membership (the ORM, a bulk statement, the importer, a migration).

Revision ID: 0009_dashboard_counts
Revises: 0009_rate_limit_hits

Each membership row (`issue_portals`) gets copies of the issue's body and request type and of
its first public move to acknowledged and to closed (from `updates`: kind "status", neither
internal nor hidden). A row counts while it is visible, filled and not deferred; every change
to a row subtracts what its old version counted and adds what its new one counts, in one
statement per aggregate table whose identical halves cancel out (so a status change writes
only the status counts). On PostgreSQL those statements take their rows in key order, so two
opposite status changes cannot deadlock on the same pair of rows.

Durations are whole seconds (each time truncated to its second: SQLite reads fractions only
to the millisecond, rounding), counted in buckets whose lower bounds are
`dashboard_duration_buckets`: every second up to 14 s, then eight buckets per doubling, each
with its count and the sum of its seconds. The bounds are those of
`portal.reports.dashboard_counts.BOUNDS` at the time of writing, copied here because a
migration must not change when the code does; tests/test_dashboard_counts.py checks they agree.
Weeks start on Monday, in UTC.
"""
import math

import sqlalchemy as sa
from alembic import op

revision = "0009_dashboard_counts"
down_revision = "0009_rate_limit_hits"
branch_labels = None
depends_on = None

STEPS = 8  # buckets per doubling of the duration
BOUNDS = tuple(sorted({0, *(math.floor(2 ** (k / STEPS)) for k in range(STEPS * 32))}))
EVENTS = ("acknowledged", "closed")
WATCHED = ("tenant_id", "issue_id", "status", "hidden", "created_at", "body_id",
           "request_type_id", "acknowledged_at", "closed_at")
HISTORY = ("issue_id", "kind", "new_status", "internal", "hidden", "created_at")
TRIGGERS = {  # name: table
    "issue_portals_dashboard_fill": "issue_portals",
    "issue_portals_dashboard_insert": "issue_portals",
    "issue_portals_dashboard_update": "issue_portals",
    "issue_portals_dashboard_delete": "issue_portals",
    "issues_dashboard_copy": "issues",
    "updates_dashboard_insert": "updates",
    "updates_dashboard_update": "updates",
    "updates_dashboard_delete": "updates",
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    for name, type_ in (("body_id", sa.Integer()), ("request_type_id", sa.Integer()),
                        ("acknowledged_at", sa.DateTime(timezone=True)),
                        ("closed_at", sa.DateTime(timezone=True))):
        op.add_column("issue_portals", sa.Column(name, type_, nullable=True))

    def owners() -> list[sa.Column]:
        return [sa.Column("tenant_id", sa.Integer(),
                          sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                sa.Column("body_id", sa.Integer(),
                          sa.ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False)]

    op.create_table(
        "dashboard_counts", *owners(),
        sa.Column("request_type_id", sa.Integer(),
                  sa.ForeignKey("request_types.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "body_id", "request_type_id", "status"),
    )
    op.create_table(
        "dashboard_weeks", *owners(),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event", "week", "body_id"),
    )
    op.create_table(
        "dashboard_durations", *owners(),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("lower_seconds", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event", "lower_seconds", "body_id"),
    )
    buckets = op.create_table(
        "dashboard_duration_buckets",
        sa.Column("lower_seconds", sa.BigInteger(), autoincrement=False, primary_key=True),
    )
    op.bulk_insert(buckets, [{"lower_seconds": b} for b in BOUNDS])
    # A row here (in the writer's own transaction) names an issue a bulk load is writing: the
    # triggers leave it alone, and the load counts its batch in a few statements instead.
    op.create_table("dashboard_deferrals",
                    sa.Column("issue_id", sa.Integer(), autoincrement=False, primary_key=True))
    if _sqlite():
        _sqlite_triggers()
    else:
        _postgresql_triggers()
    # Existing rows: filling the copies fires the update trigger, which counts them.
    op.execute(f"UPDATE issue_portals SET {_fill_assignments('issue_portals.issue_id')}")


# Shared by both databases; `D` holds what differs. ----------------------------------------

class _SQLite:
    false = "0"

    @staticmethod
    def week(value: str) -> str:
        return f"date(substr({value}, 1, 19), '-6 days', 'weekday 1')"

    @staticmethod
    def epoch(value: str) -> str:
        return f"CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER)"

    @staticmethod
    def at_least_zero(value: str) -> str:
        return f"MAX(0, {value})"


class _PostgreSQL:
    false = "FALSE"

    @staticmethod
    def week(value: str) -> str:
        return f"date_trunc('week', {value} AT TIME ZONE 'UTC')::date"

    @staticmethod
    def epoch(value: str) -> str:
        return f"floor(extract(epoch FROM {value}))::bigint"

    @staticmethod
    def at_least_zero(value: str) -> str:
        return f"GREATEST(0, {value})"


def _d():  # noqa: ANN202 - one of the two classes above
    return _SQLite if _sqlite() else _PostgreSQL


def _deferred(issue: str) -> str:
    return f"EXISTS (SELECT 1 FROM dashboard_deferrals WHERE issue_id = {issue})"


def _counted(row: str) -> str:
    return (f"{row}.hidden = {_d().false} AND {row}.body_id IS NOT NULL "
            f"AND {row}.created_at IS NOT NULL AND NOT {_deferred(f'{row}.issue_id')}")


def _seconds(row: str, event: str) -> str:
    d = _d()
    return d.at_least_zero(f"{d.epoch(f'{row}.{event}_at')} - {d.epoch(f'{row}.created_at')}")


def _bucket(seconds: str) -> str:
    return (f"(SELECT MAX(lower_seconds) FROM dashboard_duration_buckets "
            f"WHERE lower_seconds <= {seconds})")


def _first(event: str, issue: str) -> str:
    """The issue's first public move to `event`, from its history."""
    false = _d().false
    return (f"(SELECT MIN(u.created_at) FROM updates u WHERE u.issue_id = {issue} "
            f"AND u.kind = 'status' AND u.new_status = '{event}' AND u.internal = {false} "
            f"AND u.hidden = {false})")


def _fill_assignments(issue: str) -> str:
    return (f"body_id = (SELECT i.body_id FROM issues i WHERE i.id = {issue}), "
            f"request_type_id = (SELECT i.request_type_id FROM issues i WHERE i.id = {issue}), "
            f"acknowledged_at = {_first('acknowledged', issue)}, "
            f"closed_at = {_first('closed', issue)}")


def _upsert(table: str, key: tuple[str, ...], sums: tuple[str, ...], parts: list[str]) -> str:
    """Add the signed rows `parts` (SELECTs of key columns then sums) into `table`, one row
    per key; keys whose sums cancel out are not written at all."""
    keys, union = ", ".join(key), " UNION ALL ".join(parts)
    totals = ", ".join(f"SUM({s})" for s in sums)
    changed = " OR ".join(f"SUM({s}) <> 0" for s in sums)
    adds = ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums)
    return (f"INSERT INTO {table} ({keys}, {', '.join(sums)}) "
            f"SELECT {keys}, {totals} FROM ({union}) AS d "
            # During a portal's deletion its rows go first: nothing may be added for it then.
            f"WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id) "
            f"GROUP BY {keys} HAVING {changed} ORDER BY {keys} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {adds};")


def _deltas(sides: list[tuple[str, int]]) -> str:
    """The statements that move the aggregates by `sign` times what each row counts."""
    d = _d()
    counts, weeks, durations = [], [], []
    for row, sign in sides:
        counted = _counted(row)
        counts.append(f"SELECT {row}.tenant_id AS tenant_id, {row}.body_id AS body_id, "
                      f"{row}.request_type_id AS request_type_id, {row}.status AS status, "
                      f"{sign} AS n WHERE {counted}")
        weeks.append(f"SELECT {row}.tenant_id AS tenant_id, {row}.body_id AS body_id, "
                     f"'reported' AS event, {d.week(f'{row}.created_at')} AS week, {sign} AS n "
                     f"WHERE {counted}")
        weeks.append(f"SELECT {row}.tenant_id, {row}.body_id, 'closed', "
                     f"{d.week(f'{row}.closed_at')}, {sign} "
                     f"WHERE {counted} AND {row}.closed_at IS NOT NULL")
        for event in EVENTS:
            seconds = _seconds(row, event)
            durations.append(
                f"SELECT {row}.tenant_id AS tenant_id, {row}.body_id AS body_id, "
                f"'{event}' AS event, {_bucket(seconds)} AS lower_seconds, {sign} AS n, "
                f"{sign} * {seconds} AS seconds WHERE {counted} AND {row}.{event}_at IS NOT NULL")
    return "\n".join((
        _upsert("dashboard_counts", ("tenant_id", "body_id", "request_type_id", "status"),
                ("n",), counts),
        _upsert("dashboard_weeks", ("tenant_id", "body_id", "event", "week"), ("n",), weeks),
        _upsert("dashboard_durations", ("tenant_id", "body_id", "event", "lower_seconds"),
                ("n", "seconds"), durations),
    ))


def _relevant(row: str) -> str:
    """An update row that can be an issue's first public acknowledgement or closure."""
    false = _d().false
    return (f"({row}.kind = 'status' AND {row}.new_status IN ('acknowledged', 'closed') "
            f"AND {row}.internal = {false} AND {row}.hidden = {false})")


def _refresh(issue: str, when: str = "") -> str:
    """Recompute the issue's first times on its membership rows (the triggers there count)."""
    return (f"UPDATE issue_portals SET acknowledged_at = {_first('acknowledged', issue)}, "
            f"closed_at = {_first('closed', issue)} WHERE issue_id = {issue}{when};")


# SQLite -------------------------------------------------------------------------------------
# Trigger bodies cannot use a WITH clause or a VALUES list: the signed rows are a UNION ALL.

def _sqlite_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    # A new membership row written with its two keys only (record_issue, refresh_portal):
    # copy the issue's body, type and first times in. A bulk load writes them itself.
    op.execute(f"""
        CREATE TRIGGER issue_portals_dashboard_fill AFTER INSERT ON issue_portals
        WHEN NEW.body_id IS NULL AND NOT {_deferred('NEW.issue_id')}
        BEGIN
          UPDATE issue_portals SET {_fill_assignments('NEW.issue_id')}
          WHERE issue_id = NEW.issue_id AND tenant_id = NEW.tenant_id;
        END""")
    # The fills (this one and 0008's) are updates: a row is counted once it is whole, whatever
    # order they run in, since a half-filled row counts nothing.
    op.execute(f"""
        CREATE TRIGGER issue_portals_dashboard_insert AFTER INSERT ON issue_portals
        WHEN NEW.body_id IS NOT NULL AND NOT {_deferred('NEW.issue_id')}
        BEGIN
          {_deltas([("NEW", 1)])}
        END""")
    op.execute(f"""
        CREATE TRIGGER issue_portals_dashboard_update AFTER UPDATE OF {", ".join(WATCHED)}
        ON issue_portals
        WHEN ({changed}) AND NOT ({_deferred('OLD.issue_id')} AND {_deferred('NEW.issue_id')})
        BEGIN
          {_deltas([("OLD", -1), ("NEW", 1)])}
        END""")
    op.execute(f"""
        CREATE TRIGGER issue_portals_dashboard_delete AFTER DELETE ON issue_portals
        WHEN OLD.body_id IS NOT NULL
        BEGIN
          {_deltas([("OLD", -1)])}
        END""")
    op.execute("""
        CREATE TRIGGER issues_dashboard_copy AFTER UPDATE OF body_id, request_type_id ON issues
        WHEN OLD.body_id IS NOT NEW.body_id OR OLD.request_type_id IS NOT NEW.request_type_id
        BEGIN
          UPDATE issue_portals SET body_id = NEW.body_id, request_type_id = NEW.request_type_id
          WHERE issue_id = NEW.id;
        END""")
    op.execute(f"""
        CREATE TRIGGER updates_dashboard_insert AFTER INSERT ON updates WHEN {_relevant('NEW')}
        BEGIN
          {_refresh('NEW.issue_id')}
        END""")
    history_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in HISTORY)
    op.execute(f"""
        CREATE TRIGGER updates_dashboard_update AFTER UPDATE OF {", ".join(HISTORY)} ON updates
        WHEN ({_relevant('OLD')} OR {_relevant('NEW')}) AND ({history_changed})
        BEGIN
          {_refresh('NEW.issue_id')}
          {_refresh('OLD.issue_id', ' AND OLD.issue_id IS NOT NEW.issue_id')}
        END""")
    op.execute(f"""
        CREATE TRIGGER updates_dashboard_delete AFTER DELETE ON updates WHEN {_relevant('OLD')}
        BEGIN
          {_refresh('OLD.issue_id')}
        END""")


# PostgreSQL ---------------------------------------------------------------------------------

def _pg_function(name: str, body: str, returns: str = "NULL") -> None:
    op.execute(f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {body}
          RETURN {returns};
        END $$""")


def _postgresql_triggers() -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    _pg_function("issue_portals_dashboard_fill", f"""
          IF NOT {_deferred('NEW.issue_id')} THEN
            SELECT i.body_id, i.request_type_id INTO NEW.body_id, NEW.request_type_id
              FROM issues i WHERE i.id = NEW.issue_id;
            NEW.acknowledged_at := {_first('acknowledged', 'NEW.issue_id')};
            NEW.closed_at := {_first('closed', 'NEW.issue_id')};
          END IF;""", returns="NEW")
    op.execute("""
        CREATE TRIGGER issue_portals_dashboard_fill BEFORE INSERT ON issue_portals
        FOR EACH ROW WHEN (NEW.body_id IS NULL)
        EXECUTE FUNCTION issue_portals_dashboard_fill()""")
    _pg_function("issue_portals_dashboard_insert", f"""
          IF {_deferred('NEW.issue_id')} THEN
            RETURN NULL;
          END IF;
          {_deltas([("NEW", 1)])}""")
    op.execute("""
        CREATE TRIGGER issue_portals_dashboard_insert AFTER INSERT ON issue_portals
        FOR EACH ROW WHEN (NEW.body_id IS NOT NULL)
        EXECUTE FUNCTION issue_portals_dashboard_insert()""")
    _pg_function("issue_portals_dashboard_update", f"""
          IF {_deferred('OLD.issue_id')} AND {_deferred('NEW.issue_id')} THEN
            RETURN NULL;
          END IF;
          {_deltas([("OLD", -1), ("NEW", 1)])}""")
    op.execute(f"""
        CREATE TRIGGER issue_portals_dashboard_update AFTER UPDATE OF {", ".join(WATCHED)}
        ON issue_portals FOR EACH ROW WHEN ({changed})
        EXECUTE FUNCTION issue_portals_dashboard_update()""")
    _pg_function("issue_portals_dashboard_delete", _deltas([("OLD", -1)]))
    op.execute("""
        CREATE TRIGGER issue_portals_dashboard_delete AFTER DELETE ON issue_portals
        FOR EACH ROW WHEN (OLD.body_id IS NOT NULL)
        EXECUTE FUNCTION issue_portals_dashboard_delete()""")
    _pg_function("issues_dashboard_copy", """
          UPDATE issue_portals SET body_id = NEW.body_id, request_type_id = NEW.request_type_id
          WHERE issue_id = NEW.id;""")
    op.execute("""
        CREATE TRIGGER issues_dashboard_copy AFTER UPDATE OF body_id, request_type_id ON issues
        FOR EACH ROW WHEN (OLD.body_id IS DISTINCT FROM NEW.body_id
                           OR OLD.request_type_id IS DISTINCT FROM NEW.request_type_id)
        EXECUTE FUNCTION issues_dashboard_copy()""")
    _pg_function("updates_dashboard_insert", _refresh("NEW.issue_id"))
    op.execute(f"""
        CREATE TRIGGER updates_dashboard_insert AFTER INSERT ON updates
        FOR EACH ROW WHEN {_relevant('NEW')} EXECUTE FUNCTION updates_dashboard_insert()""")
    history_changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in HISTORY)
    _pg_function("updates_dashboard_update", f"""
          {_refresh('NEW.issue_id')}
          IF OLD.issue_id IS DISTINCT FROM NEW.issue_id THEN
            {_refresh('OLD.issue_id')}
          END IF;""")
    op.execute(f"""
        CREATE TRIGGER updates_dashboard_update AFTER UPDATE OF {", ".join(HISTORY)} ON updates
        FOR EACH ROW WHEN (({_relevant('OLD')} OR {_relevant('NEW')}) AND ({history_changed}))
        EXECUTE FUNCTION updates_dashboard_update()""")
    _pg_function("updates_dashboard_delete", _refresh("OLD.issue_id"))
    op.execute(f"""
        CREATE TRIGGER updates_dashboard_delete AFTER DELETE ON updates
        FOR EACH ROW WHEN {_relevant('OLD')} EXECUTE FUNCTION updates_dashboard_delete()""")


def downgrade() -> None:
    for name, table in TRIGGERS.items():
        if _sqlite():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for table in ("dashboard_deferrals", "dashboard_duration_buckets", "dashboard_durations",
                  "dashboard_weeks", "dashboard_counts"):
        op.drop_table(table)
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would trip over 0008's
    # triggers, which name it.
    for name in ("closed_at", "acknowledged_at", "request_type_id", "body_id"):
        op.execute(f"ALTER TABLE issue_portals DROP COLUMN {name}")
