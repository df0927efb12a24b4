"""Reports by text message: each portal's phone numbers, the residents' numbers (hashed and
encrypted), their conversations, the gateway messages already taken, and which issues came
by text.

Revision ID: 0018_sms
Revises: 0017_operator
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_sms"
down_revision = "0017_operator"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("sms_numbers", sa.JSON(), nullable=False,
                                       server_default="[]"))
    op.create_table(
        "sms_contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("phone_sealed", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "phone_hash", name="uq_sms_contacts_tenant_phone"),
    )
    op.create_table(
        "sms_conversations",
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("sms_contacts.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sms_inbound",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("gateway", "number", "message_id", name="uq_sms_inbound_message"),
    )
    op.create_table(
        "sms_reports",
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("issues.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("sms_contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
    )
    op.create_index("ix_sms_reports_contact_id", "sms_reports", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_sms_reports_contact_id", table_name="sms_reports")
    op.drop_table("sms_reports")
    op.drop_table("sms_inbound")
    op.drop_table("sms_conversations")
    op.drop_table("sms_contacts")
    op.execute("ALTER TABLE tenants DROP COLUMN sms_numbers")
