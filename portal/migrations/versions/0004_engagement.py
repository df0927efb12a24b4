"""Engagement: watch areas, the civic points ledger, unsubscribes, the outbox's portal.

Revision ID: 0004
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(),
                  sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("issue_id", sa.Integer(),
                  sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("frequency", sa.String(8), nullable=False),
        sa.Column("feed_token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_watches_email", "watches", ["email"])
    op.create_index("ix_watches_issue_id", "watches", ["issue_id"])
    op.create_index("ix_watches_tenant_bbox", "watches", ["tenant_id", "min_lat", "max_lat"])

    op.create_table(
        "point_awards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("act", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(),
                  sa.ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("person_key", "act"),
    )
    op.create_index("ix_point_awards_person_key", "point_awards", ["person_key"])
    op.create_index("ix_point_awards_issue_id", "point_awards", ["issue_id"])

    op.create_table(
        "contributions",
        sa.Column("update_id", sa.Integer(),
                  sa.ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("person_key", sa.String(64), nullable=False),
    )
    op.create_index("ix_contributions_person_key", "contributions", ["person_key"])

    op.create_table(
        "mail_suppressions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("email", "scope"),
    )

    # On SQLite, batch mode rebuilds the (small) outbox table to add the foreign key.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbox_tenant_id", "tenants", ["tenant_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_tenant_id", type_="foreignkey")
        batch.drop_column("tenant_id")
    op.drop_table("mail_suppressions")
    op.drop_index("ix_contributions_person_key", "contributions")
    op.drop_table("contributions")
    op.drop_index("ix_point_awards_issue_id", "point_awards")
    op.drop_index("ix_point_awards_person_key", "point_awards")
    op.drop_table("point_awards")
    op.drop_index("ix_watches_tenant_bbox", "watches")
    op.drop_index("ix_watches_issue_id", "watches")
    op.drop_index("ix_watches_email", "watches")
    op.drop_table("watches")
