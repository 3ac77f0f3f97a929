"""Initial schema: audit log, issued cards, feedback, seen token ids (revision 0001)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# SQLite only autoincrements an INTEGER PRIMARY KEY; elsewhere a 64-bit id.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the four tables."""
    op.create_table(
        "audit",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("hook_instance", sa.Text(), nullable=False),
        sa.Column("patient_ref", sa.Text(), nullable=True),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("card_uuids", sa.Text(), nullable=False),
        sa.Column("resources_used", sa.Text(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "card_issued",
        sa.Column("card_uuid", sa.String(128), primary_key=True),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("audit_id", ID, sa.ForeignKey("audit.id"), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
    )
    op.create_index("ix_card_issued_rule_id", "card_issued", ["rule_id"])
    op.create_table(
        "feedback",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("card_uuid", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("outcome_timestamp", sa.String(40), nullable=False),
        sa.Column("accepted_suggestions", sa.Text(), nullable=False),
        sa.Column("override_reason_code", sa.Text(), nullable=True),
        sa.Column("override_reason_system", sa.Text(), nullable=True),
        sa.Column("override_reason_display", sa.Text(), nullable=True),
        sa.Column("user_comment", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "card_uuid", "outcome", "outcome_timestamp", name="uq_feedback_card_outcome_time"
        ),
    )
    op.create_table(
        "jti_seen",
        sa.Column("iss", sa.Text(), primary_key=True),
        sa.Column("jti", sa.String(255), primary_key=True),
        sa.Column("exp", sa.Float(), nullable=False),
    )
    op.create_index("ix_jti_seen_exp", "jti_seen", ["exp"])


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("jti_seen")
    op.drop_table("feedback")
    op.drop_table("card_issued")
    op.drop_table("audit")
