"""PostgreSQL: new membership and history rows counted once per statement, not per row.

Revision ID: 0023_importspeed2
Revises: 0022_office

0008, 0009 and 0016 count each new `issue_portals` row into the map's cells and the
dashboard's tables, and refresh an issue's first times for each new `updates` row, with a
trigger function called per row. A bulk import writes thousands of rows per statement (a
COPY) and defers that counting to its batch (`counting_deferred`), yet every row still paid
for its calls, which only found the row deferred: the largest part of the server's time.
Here those INSERT triggers become statement triggers that read the statement's new rows as a
transition table (`added`) and do the same work set-based, with the same conditions,
expressions and key order as the row triggers (tests/test_issue_cells.py,
tests/test_dashboard_counts.py and the importer's exactness checks hold them to it). The fill
trigger also gets the `WHEN (NEW.lat IS NULL)` that SQLite's has: a writer that sets the
copies itself (the importer) no longer calls it.

UPDATE and DELETE keep their row triggers (PostgreSQL allows no transition table on a
trigger with a column list, and those changes come a few rows at a time).

SQLite has no statement triggers: nothing changes there (its triggers are evaluated inline,
and its fill trigger has had the WHEN from the start).
"""

from alembic import op

revision = "0023_importspeed2"
down_revision = "0022_office"
branch_labels = None
depends_on = None

# 0008's bands (tests/test_issue_cells.py checks they agree with the code).
BANDS = (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
EVENTS = ("acknowledged", "closed")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _bands() -> str:
    return ", ".join(f"({band}, {repr(2.0**band / 360.0)}::float8)" for band in BANDS)


def _week(value: str) -> str:
    return f"date_trunc('week', {value} AT TIME ZONE 'UTC')::date"


def _seconds(event: str) -> str:
    return (f"GREATEST(0, floor(extract(epoch FROM a.{event}_at))::bigint "
            f"- floor(extract(epoch FROM a.created_at))::bigint)")


def _bucket(seconds: str) -> str:
    return (f"(SELECT MAX(lower_seconds) FROM dashboard_duration_buckets "
            f"WHERE lower_seconds <= {seconds})")


# 0009's `_counted` for a row `a` of the statement, and its check that the portal is there.
COUNTED = ("a.hidden = FALSE AND a.body_id IS NOT NULL AND a.created_at IS NOT NULL "
           "AND NOT EXISTS (SELECT 1 FROM dashboard_deferrals WHERE issue_id = a.issue_id) "
           "AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id)")


def _add(table: str, key: tuple[str, ...], sums: tuple[str, ...], parts: list[str]) -> str:
    """Add the rows `parts` (SELECTs of the key columns, then `seconds` when summed) into
    `table`, one row per key, in key order as 0009's `_upsert` does."""
    keys = ", ".join(key)
    totals = ", ".join("COUNT(*)" if s == "n" else f"SUM({s})" for s in sums)
    adds = ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums)
    return (f"INSERT INTO {table} ({keys}, {', '.join(sums)}) "
            f"SELECT {keys}, {totals} FROM ({' UNION ALL '.join(parts)}) AS d "
            f"GROUP BY {keys} ORDER BY {keys} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {adds};")


def _dashboard_body() -> str:
    rows = f"FROM added a WHERE {COUNTED}"
    counts = [f"SELECT a.tenant_id, a.body_id, a.request_type_id, a.status {rows}"]
    weeks = [f"SELECT a.tenant_id, a.body_id, 'reported' AS event, "
             f"{_week('a.created_at')} AS week {rows}",
             f"SELECT a.tenant_id, a.body_id, 'closed', {_week('a.closed_at')} "
             f"{rows} AND a.closed_at IS NOT NULL"]
    durations, week_durations = [], []
    for event in EVENTS:
        seconds = _seconds(event)
        durations.append(f"SELECT a.tenant_id, a.body_id, '{event}' AS event, "
                         f"{_bucket(seconds)} AS lower_seconds, {seconds} AS seconds "
                         f"{rows} AND a.{event}_at IS NOT NULL")
        week_durations.append(f"SELECT a.tenant_id, a.body_id, '{event}' AS event, "
                              f"{_week('a.created_at')} AS week, "
                              f"{_bucket(seconds)} AS lower_seconds, {seconds} AS seconds "
                              f"{rows} AND a.{event}_at IS NOT NULL")
    return "\n".join((
        # A bulk load's rows are all deferred: one look at them, and nothing more to do.
        f"IF NOT EXISTS (SELECT 1 FROM added a WHERE {COUNTED}) THEN RETURN NULL; END IF;",
        _add("dashboard_counts", ("tenant_id", "body_id", "request_type_id", "status"),
             ("n",), counts),
        _add("dashboard_weeks", ("tenant_id", "body_id", "event", "week"), ("n",), weeks),
        _add("dashboard_durations", ("tenant_id", "body_id", "event", "lower_seconds"),
             ("n", "seconds"), durations),
        _add("dashboard_week_durations",
             ("tenant_id", "body_id", "event", "week", "lower_seconds"), ("n", "seconds"),
             week_durations),
    ))


def _first(event: str) -> str:
    return (f"(SELECT MIN(u.created_at) FROM updates u WHERE u.issue_id = ip.issue_id "
            f"AND u.kind = 'status' AND u.new_status = '{event}' AND u.internal = FALSE "
            f"AND u.hidden = FALSE)")


CELLS = f"""
    IF NOT EXISTS (SELECT 1 FROM issue_cell_deferrals) THEN
      INSERT INTO issue_cells AS c (tenant_id, band, cx, cy, status, n, sum_lat, sum_lon)
      SELECT a.tenant_id, b.band, floor((a.lon + 180.0) * b.scale)::integer,
             floor((a.lat + 90.0) * b.scale)::integer, a.status, COUNT(*), SUM(a.lat),
             SUM(a.lon)
      FROM added a CROSS JOIN (VALUES {_bands()}) AS b(band, scale)
      WHERE a.hidden IS FALSE
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (tenant_id, band, cx, cy, status) DO UPDATE SET n = c.n + EXCLUDED.n,
        sum_lat = c.sum_lat + EXCLUDED.sum_lat, sum_lon = c.sum_lon + EXCLUDED.sum_lon;
    END IF;"""

# 0009's `updates_dashboard_insert`, for all the statement's relevant rows at once (an array:
# the planner cannot size a transition table, and would scan every membership row).
HISTORY = f"""
    UPDATE issue_portals ip SET acknowledged_at = {_first('acknowledged')},
      closed_at = {_first('closed')}
    WHERE ip.issue_id = ANY (ARRAY(SELECT a.issue_id FROM added a WHERE a.kind = 'status'
      AND a.new_status IN ('acknowledged', 'closed') AND a.internal = FALSE
      AND a.hidden = FALSE));"""

# name: (table, body); each replaces the row triggers in OLD below.
STATEMENT_TRIGGERS = {
    "issue_portals_cells_added": ("issue_portals", CELLS),
    "issue_portals_dashboard_added": ("issue_portals", None),  # built when run
    "updates_dashboard_added": ("updates", HISTORY),
}
# The row triggers replaced, as 0008, 0009 and 0016 made them (their functions stay).
OLD = {
    "issue_portals_cells_insert": """
        CREATE TRIGGER issue_portals_cells_insert AFTER INSERT ON issue_portals
        FOR EACH ROW EXECUTE FUNCTION issue_portals_cells()""",
    "issue_portals_dashboard_insert": """
        CREATE TRIGGER issue_portals_dashboard_insert AFTER INSERT ON issue_portals
        FOR EACH ROW WHEN (NEW.body_id IS NOT NULL)
        EXECUTE FUNCTION issue_portals_dashboard_insert()""",
    "issue_portals_week_durations_insert": """
        CREATE TRIGGER issue_portals_week_durations_insert AFTER INSERT ON issue_portals
        FOR EACH ROW WHEN (NEW.body_id IS NOT NULL)
        EXECUTE FUNCTION issue_portals_week_durations_insert()""",
    "updates_dashboard_insert": """
        CREATE TRIGGER updates_dashboard_insert AFTER INSERT ON updates
        FOR EACH ROW WHEN ((NEW.kind = 'status' AND NEW.new_status IN ('acknowledged', 'closed')
          AND NEW.internal = FALSE AND NEW.hidden = FALSE))
        EXECUTE FUNCTION updates_dashboard_insert()""",
}
OLD_TABLES = {"issue_portals_cells_insert": "issue_portals",
              "issue_portals_dashboard_insert": "issue_portals",
              "issue_portals_week_durations_insert": "issue_portals",
              "updates_dashboard_insert": "updates"}


def _fill_trigger(when: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS issue_portals_fill ON issue_portals")
    op.execute(f"""
        CREATE TRIGGER issue_portals_fill BEFORE INSERT ON issue_portals
        FOR EACH ROW {when} EXECUTE FUNCTION issue_portals_fill()""")


def upgrade() -> None:
    if not _postgresql():
        return
    _fill_trigger("WHEN (NEW.lat IS NULL)")
    for name, table in OLD_TABLES.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name, (table, body) in STATEMENT_TRIGGERS.items():
        body = _dashboard_body() if body is None else body
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {body} RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
                   f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    if not _postgresql():
        return
    for name, (table, _body) in STATEMENT_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for statement in OLD.values():
        op.execute(statement)
    _fill_trigger("")
