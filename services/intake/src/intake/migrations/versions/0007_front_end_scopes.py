"""scoped front ends: api_keys gain front end and scopes; complaints record their front end

An API key belongs to a front end (``api_keys.front_end``, the stable name its keys rotate
within; existing keys get their label) and carries scopes (``api_keys.scopes``, a JSON list,
none for existing keys). Who made, rotated and revoked a key is kept with it
(``created_by``, ``revoked_by``, ``revoked_reason``, ``rotated_from``: the key a rotation
replaced); ``revoked_at`` may now lie in the future, while a rotated key's grace period
runs. ``complaints.front_end`` is the front end whose key posted the complaint: null for
complaints made before, which only a key with the ``complaints:read-all`` scope reaches.
Existing complaints keep their customer references (see intake.complaints.domain.customers).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("front_end", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("scopes", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(sa.Column("created_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("revoked_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("rotated_from", KEY_ID, nullable=True))
    # A key made before front ends were named is its label's front end.
    op.execute(sa.text("UPDATE api_keys SET front_end = label"))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("front_end", existing_type=sa.String(length=100), nullable=False)
        batch_op.create_index(batch_op.f("ix_api_keys_front_end"), ["front_end"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_rotated_from_api_keys"), "api_keys", ["rotated_from"], ["id"]
        )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("front_end", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("front_end")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_keys_rotated_from_api_keys"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_api_keys_front_end"))
        batch_op.drop_column("rotated_from")
        batch_op.drop_column("revoked_reason")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("created_by")
        batch_op.drop_column("scopes")
        batch_op.drop_column("front_end")
