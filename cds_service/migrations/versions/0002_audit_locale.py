"""The audit row records the language its cards were written in (revision 0002, issue 12)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add audit.locale; rows written before it spoke English, the only language then."""
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("locale", sa.String(16), nullable=False, server_default="en"))


def downgrade() -> None:
    """Drop audit.locale."""
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("locale")
