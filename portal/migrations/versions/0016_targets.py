"""Service targets and medians over a period.

Revision ID: 0016_targets
Revises: 0015_open311_bodies

- `bodies.service_targets`: a body's promises per request type and its working hours;
  `issues.acknowledge_due_at`, `issues.close_due_at`: when each issue is due (see
  `portal.tenancy.service_targets`). Existing issues get their due times when `portal
  tenants load` next loads bodies that set targets.
- `dashboard_week_durations`: 0009's duration histograms once more, keyed also by the week
  (Monday, UTC) the issue was reported in, so the dashboard's medians over a chosen period
  add up that period's weeks instead of reading issues. Triggers on `issue_portals` keep it
  exactly as 0009's keep `dashboard_durations` (same conditions, same deferral for bulk loads,
  same whole seconds and buckets); a bulk load counts its batch in
  `portal.reports.dashboard_counts`. Existing rows are counted here, set-based.

Plain ADD/DROP COLUMN (SQLite 3.35+), not a batch copy: migrations 0008 and 0009 put triggers
on `issues` and `issue_portals` that name the tables, and a copy would trip over them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_targets"
down_revision = "0015_open311_bodies"
branch_labels = None
depends_on = None

ISSUE_COLUMNS = ("acknowledge_due_at", "close_due_at")
EVENTS = ("acknowledged", "closed")
# 0009's: a change to any of these moves what a membership row counts.
WATCHED = ("tenant_id", "issue_id", "status", "hidden", "created_at", "body_id",
           "request_type_id", "acknowledged_at", "closed_at")
TRIGGERS = ("issue_portals_week_durations_insert", "issue_portals_week_durations_update",
            "issue_portals_week_durations_delete")
KEY = ("tenant_id", "body_id", "event", "week", "lower_seconds")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _week(value: str) -> str:
    if _sqlite():
        return f"date(substr({value}, 1, 19), '-6 days', 'weekday 1')"
    return f"date_trunc('week', {value} AT TIME ZONE 'UTC')::date"


def _epoch(value: str) -> str:
    if _sqlite():
        return f"CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER)"
    return f"floor(extract(epoch FROM {value}))::bigint"


def _seconds(row: str, event: str) -> str:
    difference = f"{_epoch(f'{row}.{event}_at')} - {_epoch(f'{row}.created_at')}"
    return f"MAX(0, {difference})" if _sqlite() else f"GREATEST(0, {difference})"


def _bucket(seconds: str) -> str:
    return (f"(SELECT MAX(lower_seconds) FROM dashboard_duration_buckets "
            f"WHERE lower_seconds <= {seconds})")


def _deferred(issue: str) -> str:
    return f"EXISTS (SELECT 1 FROM dashboard_deferrals WHERE issue_id = {issue})"


def _counted(row: str) -> str:
    false = "0" if _sqlite() else "FALSE"
    return (f"{row}.hidden = {false} AND {row}.body_id IS NOT NULL "
            f"AND {row}.created_at IS NOT NULL AND NOT {_deferred(f'{row}.issue_id')}")


def _delta(sides: list[tuple[str, int]]) -> str:
    """One upsert adding `sign` times what each side's row counts; keys that cancel out are
    not written (as 0009's `_upsert`)."""
    parts = []
    for row, sign in sides:
        for event in EVENTS:
            seconds = _seconds(row, event)
            parts.append(
                f"SELECT {row}.tenant_id AS tenant_id, {row}.body_id AS body_id, "
                f"'{event}' AS event, {_week(f'{row}.created_at')} AS week, "
                f"{_bucket(seconds)} AS lower_seconds, {sign} AS n, {sign} * {seconds} AS seconds "
                f"WHERE {_counted(row)} AND {row}.{event}_at IS NOT NULL")
    keys = ", ".join(KEY)
    return (f"INSERT INTO dashboard_week_durations ({keys}, n, seconds) "
            f"SELECT {keys}, SUM(n), SUM(seconds) FROM ({' UNION ALL '.join(parts)}) AS d "
            f"WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id) "
            f"GROUP BY {keys} HAVING SUM(n) <> 0 OR SUM(seconds) <> 0 ORDER BY {keys} "
            f"ON CONFLICT ({keys}) DO UPDATE SET n = dashboard_week_durations.n + excluded.n, "
            f"seconds = dashboard_week_durations.seconds + excluded.seconds;")


def upgrade() -> None:
    op.add_column("bodies", sa.Column("service_targets", sa.JSON(), nullable=True))
    for name in ISSUE_COLUMNS:
        op.add_column("issues", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dashboard_week_durations",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("body_id", sa.Integer(), sa.ForeignKey("bodies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("lower_seconds", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        # Tenant, event and week first: a period's read is one range of the key.
        sa.PrimaryKeyConstraint("tenant_id", "event", "week", "lower_seconds", "body_id"),
    )
    changed_sqlite = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    changed_pg = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    columns = ", ".join(WATCHED)
    if _sqlite():
        op.execute(f"""
            CREATE TRIGGER issue_portals_week_durations_insert AFTER INSERT ON issue_portals
            WHEN NEW.body_id IS NOT NULL AND NOT {_deferred('NEW.issue_id')}
            BEGIN {_delta([("NEW", 1)])} END""")
        op.execute(f"""
            CREATE TRIGGER issue_portals_week_durations_update AFTER UPDATE OF {columns}
            ON issue_portals
            WHEN ({changed_sqlite}) AND NOT ({_deferred('OLD.issue_id')}
                                             AND {_deferred('NEW.issue_id')})
            BEGIN {_delta([("OLD", -1), ("NEW", 1)])} END""")
        op.execute(f"""
            CREATE TRIGGER issue_portals_week_durations_delete AFTER DELETE ON issue_portals
            WHEN OLD.body_id IS NOT NULL
            BEGIN {_delta([("OLD", -1)])} END""")
    else:
        bodies = {
            "issue_portals_week_durations_insert":
                f"IF {_deferred('NEW.issue_id')} THEN RETURN NULL; END IF; "
                f"{_delta([('NEW', 1)])}",
            "issue_portals_week_durations_update":
                f"IF {_deferred('OLD.issue_id')} AND {_deferred('NEW.issue_id')} THEN "
                f"RETURN NULL; END IF; {_delta([('OLD', -1), ('NEW', 1)])}",
            "issue_portals_week_durations_delete": _delta([("OLD", -1)]),
        }
        for name, body in bodies.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {body} RETURN NULL; END $$")
        op.execute("""
            CREATE TRIGGER issue_portals_week_durations_insert AFTER INSERT ON issue_portals
            FOR EACH ROW WHEN (NEW.body_id IS NOT NULL)
            EXECUTE FUNCTION issue_portals_week_durations_insert()""")
        op.execute(f"""
            CREATE TRIGGER issue_portals_week_durations_update AFTER UPDATE OF {columns}
            ON issue_portals FOR EACH ROW WHEN ({changed_pg})
            EXECUTE FUNCTION issue_portals_week_durations_update()""")
        op.execute("""
            CREATE TRIGGER issue_portals_week_durations_delete AFTER DELETE ON issue_portals
            FOR EACH ROW WHEN (OLD.body_id IS NOT NULL)
            EXECUTE FUNCTION issue_portals_week_durations_delete()""")
    # The rows already there, in one statement per event.
    for event in EVENTS:
        seconds = _seconds("ip", event)
        op.execute(f"""
            INSERT INTO dashboard_week_durations ({", ".join(KEY)}, n, seconds)
            SELECT tenant_id, body_id, '{event}', week, lower_seconds, COUNT(*), SUM(seconds)
            FROM (SELECT ip.tenant_id AS tenant_id, ip.body_id AS body_id,
                         {_week('ip.created_at')} AS week, {seconds} AS seconds,
                         {_bucket(seconds)} AS lower_seconds
                  FROM issue_portals ip
                  WHERE {_counted('ip')} AND ip.{event}_at IS NOT NULL) AS d
            GROUP BY tenant_id, body_id, week, lower_seconds""")


def downgrade() -> None:
    for name in TRIGGERS:
        if _sqlite():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON issue_portals")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("dashboard_week_durations")
    for name in ISSUE_COLUMNS:
        op.execute(f"ALTER TABLE issues DROP COLUMN {name}")
    op.execute("ALTER TABLE bodies DROP COLUMN service_targets")
