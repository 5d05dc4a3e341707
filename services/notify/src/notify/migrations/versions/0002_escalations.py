"""notify: escalation and duplicate notices

A level-3 escalation tells every member of the senior escalation group, one message (and
one row) each: the uniqueness of a message becomes (event, template, recipient role,
recipient slot), the slot being '' for every single-recipient delivery, so existing rows
keep their guarantee unchanged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KEY = ["event_id", "template", "recipient_role"]
_NEW_KEY = [*_OLD_KEY, "recipient_slot"]


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recipient_slot", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.drop_constraint("uq_deliveries_message", type_="unique")
        batch_op.create_unique_constraint("uq_deliveries_message", _NEW_KEY)


def downgrade() -> None:
    # Fails while a group's messages share (event, template, role): those rows would have
    # to go first, which a downgrade must not decide on its own.
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_message", type_="unique")
        batch_op.create_unique_constraint("uq_deliveries_message", _OLD_KEY)
        batch_op.drop_column("recipient_slot")
