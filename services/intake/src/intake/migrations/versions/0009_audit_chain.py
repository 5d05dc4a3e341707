"""audit chain: the service's hash-chained audit log (complaint_runtime.audit); processed
events indexed by time (pruning)

Also the indexes pruning deletes by: processed_events.processed_at, idempotency_keys.created_at.
One link per transaction that changed anything: its entries (who did what to which object,
from where; before and after for configuration) and the hash of the link before it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

from alembic import op
from complaint_runtime.migrations import create_audit_chain, drop_audit_chain

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_chain()
    # Idempotency keys are pruned by age (intake.complaints.pruning).
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    drop_audit_chain()
