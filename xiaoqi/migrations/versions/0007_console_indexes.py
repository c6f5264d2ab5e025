"""indexes for the console: messages by group and time, the send queue's unsent rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNSENT = sa.text("state <> 'sent'")


def upgrade() -> None:
    op.create_index(
        "ix_message_group_sent", "message", ["group_id", "sent_at"], postgresql_include=["sentiment"]
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["account", "state", "created_at"],
        postgresql_where=UNSENT,
        sqlite_where=UNSENT,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_index("ix_message_group_sent", table_name="message")
