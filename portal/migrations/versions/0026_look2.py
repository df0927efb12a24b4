"""Response templates: a body's staff keep the replies they send most, per language.

Revision ID: 0026_look2
Revises: 0025_portaladmin
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_look2"
down_revision = "0025_portaladmin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body_id", sa.Integer, sa.ForeignKey("bodies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("text", sa.JSON, nullable=False),
        sa.Column("request_type_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_response_templates_body_id", "response_templates", ["body_id"])


def downgrade() -> None:
    op.drop_index("ix_response_templates_body_id", "response_templates")
    op.drop_table("response_templates")
