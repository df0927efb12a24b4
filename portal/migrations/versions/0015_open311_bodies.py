"""Bodies reached through their own Open311 endpoint: the configuration, the last poll, and
each issue's request id at the body.

Revision ID: 0015_open311_bodies
Revises: 0014_places
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_open311_bodies"
down_revision = "0014_places"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bodies") as batch:
        batch.add_column(sa.Column("open311", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("open311_polled_at", sa.DateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        "open311_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("body_id", sa.Integer(), sa.ForeignKey("bodies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("service_request_id", sa.String(100), nullable=True),
        sa.Column("token", sa.String(100), nullable=True),
        sa.Column("remote_status", sa.String(40), nullable=False, server_default=""),
        sa.Column("remote_updated", sa.String(40), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("issue_id", "body_id", name="uq_open311_requests_issue_body"),
    )
    op.create_index("ix_open311_requests_body_remote", "open311_requests",
                    ["body_id", "service_request_id"])


def downgrade() -> None:
    op.drop_index("ix_open311_requests_body_remote", table_name="open311_requests")
    op.drop_table("open311_requests")
    with op.batch_alter_table("bodies") as batch:
        batch.drop_column("open311_polled_at")
        batch.drop_column("open311")
