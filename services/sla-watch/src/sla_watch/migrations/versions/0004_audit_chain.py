"""audit chain: the service's hash-chained audit log (complaint_runtime.audit); processed
events indexed by time (pruning)

One link per transaction that changed anything: its entries (who did what to which object,
from where; before and after for configuration) and the hash of the link before it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

from complaint_runtime.migrations import create_audit_chain, drop_audit_chain

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_chain()


def downgrade() -> None:
    drop_audit_chain()
