"""The dashboard's counters: a portal's issues counted by body, type, status, week and time
to answer, kept by database triggers in the writing transaction so the dashboard never reads
the issues themselves (migration 0009_dashboard_counts; `portal.reports.dashboard_counts`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base


class DashboardCount(Base):
    """How many of a portal's visible issues of one body, request type and status there are.

    This and the next three tables are kept by database triggers on `issue_portals`, `issues`
    and `updates`, in the writing transaction (migration 0009_dashboard_counts, and
    `portal.reports.dashboard_counts` for bulk loads): the dashboard reads a few hundred of
    their rows, never the issues. Rows are kept at zero rather than deleted.
    """

    __tablename__ = "dashboard_counts"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    body_id: Mapped[int] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    request_type_id: Mapped[int] = mapped_column(
        ForeignKey("request_types.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class DashboardWeek(Base):
    """A portal's visible issues of one body reported (`event` "reported", by report time) or
    first publicly closed ("closed") in the week (UTC, from Monday) that starts on `week`."""

    __tablename__ = "dashboard_weeks"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    n: Mapped[int] = mapped_column(Integer)


class DashboardDuration(Base):
    """One bucket of a histogram: how many of a portal's visible issues of one body were first
    publicly `event` ("acknowledged" or "closed") that many whole seconds after their report
    (at least `lower_seconds`, below the next bucket's), and the sum of those seconds."""

    __tablename__ = "dashboard_durations"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    lower_seconds: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    n: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(BigInteger)


class DashboardWeekDuration(Base):
    """The same histograms, per week of the report (its Monday, UTC): the dashboard's medians
    over a chosen period add up the weeks the period's chart shows (migration 0016_targets)."""

    __tablename__ = "dashboard_week_durations"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    lower_seconds: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    n: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(BigInteger)


class DashboardDurationBucket(Base):
    """The lower bounds of the duration buckets, for the triggers to look a duration up in."""

    __tablename__ = "dashboard_duration_buckets"

    lower_seconds: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class DashboardDeferral(Base):
    """An issue a bulk load is writing: while its row exists (in the load's own transaction)
    the dashboard triggers leave the issue alone and the load counts its batch itself
    (`portal.reports.dashboard_counts.counting_deferred`)."""

    __tablename__ = "dashboard_deferrals"

    issue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
