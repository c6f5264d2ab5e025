"""rate counters (sign-in codes, receipt checks); a street's staff; Open311 clients that read all

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("street_id", sa.String(), nullable=True))
        batch.create_foreign_key("fk_person_street_id_street", "street", ["street_id"], ["id"])
    with op.batch_alter_table("api_client") as batch:
        batch.add_column(sa.Column("read_all", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("api_client") as batch:
        batch.drop_column("read_all")
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint("fk_person_street_id_street", type_="foreignkey")
        batch.drop_column("street_id")
    op.drop_table("rate_counter")
