"""the customer's time zone: complaints.timezone

The IANA zone a front end may send with a complaint (``timezone``, checked against the
zone database); the tracking page shows the promised times in it, else in the
organisation's zone (ORGANISATION_TIMEZONE). Existing complaints have none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("timezone")
