"""SLA policies as data, and the configuration version that every change of a policy or a
calendar bumps.

Every admin change runs in one transaction that also bumps ``sla_config_version`` and
inserts a recompute job, so the caches of the clocks' terms source (keyed by that version,
see :mod:`sla_watch.policies.terms_source`) and the open clocks' deadlines follow the
change. The version row is bumped *first*: on PostgreSQL its row lock serializes admin
changes, so two concurrent changes cannot each pass validation and together leave a
priority without a policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from complaint_runtime.database import Base, UTCDateTime, utcnow
from sqlalchemy import Boolean, ForeignKey, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from sla_watch.policies.domain.policy import Policy

CONFIG_ROW = 1
_VERSION_KEY = "sla_config_version"


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    policy_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    calendar_id: Mapped[str] = mapped_column(String(60), ForeignKey("sla_calendars.calendar_id"))
    first_response_s: Mapped[int] = mapped_column(Integer)
    next_response_s: Mapped[int] = mapped_column(Integer)
    resolution_s: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def policy(self) -> Policy:
        return Policy(
            policy_id=self.policy_id,
            position=self.position,
            name=self.name,
            calendar_id=self.calendar_id,
            first_response_s=self.first_response_s,
            next_response_s=self.next_response_s,
            resolution_s=self.resolution_s,
            priority=self.priority,
            category=self.category,
            tier=self.tier,
            channel=self.channel,
            enabled=self.enabled,
        )


class SlaConfigVersion(Base):
    __tablename__ = "sla_config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyRepository:
    """The policies, and the configuration version (of policies and calendars together)."""

    def __init__(self, session: AsyncSession):
        self.session = session

    # -- configuration version ------------------------------------------------------------

    async def version(self) -> int:
        found = await self.session.scalar(
            select(SlaConfigVersion.version).where(SlaConfigVersion.id == CONFIG_ROW)
        )
        return int(found or 0)

    async def version_of_transaction(self) -> int:
        """The config version, read once per transaction: a consumer batch or a firing round
        arms and fires hundreds of clocks, and one SELECT each was a round trip per clock. A
        change committed meanwhile is seen from the next transaction on (as before, a clock
        armed between the read and the commit keeps the terms read; the window is now one
        transaction long instead of one clock's)."""
        session = self.session
        transaction = session.sync_session.get_transaction()
        cached = session.info.get(_VERSION_KEY)
        if cached is not None and transaction is not None and cached[0] is transaction:
            return int(cached[1])
        version = await self.version()
        session.info[_VERSION_KEY] = (session.sync_session.get_transaction(), version)
        return version

    async def bump_version(self) -> int:
        """+1 in the caller's transaction (its row lock orders concurrent admin changes);
        this transaction sees the new version from now on."""
        result = await self.session.execute(
            update(SlaConfigVersion)
            .where(SlaConfigVersion.id == CONFIG_ROW)
            .values(version=SlaConfigVersion.version + 1, updated_at=utcnow())
            .returning(SlaConfigVersion.version)
        )
        self.session.info.pop(_VERSION_KEY, None)
        found = result.scalar_one_or_none()
        if found is None:  # a database seeded without the row
            self.session.add(SlaConfigVersion(id=CONFIG_ROW, version=1, updated_at=utcnow()))
            await self.session.flush()
            return 1
        return int(found)

    # -- policies -------------------------------------------------------------------------

    def add(self, row: SlaPolicy) -> None:
        self.session.add(row)

    async def delete(self, row: SlaPolicy) -> None:
        await self.session.delete(row)

    async def policy_rows(self) -> Sequence[SlaPolicy]:
        return (
            await self.session.scalars(
                select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.policy_id)
            )
        ).all()

    async def policies(self) -> list[Policy]:
        return [row.policy() for row in await self.policy_rows()]

    async def policy_row(self, policy_id: str) -> SlaPolicy | None:
        return await self.session.get(SlaPolicy, policy_id)

    async def policies_using(self, calendar_id: str) -> list[str]:
        found = await self.session.scalars(
            select(SlaPolicy.policy_id).where(SlaPolicy.calendar_id == calendar_id)
        )
        return sorted(found.all())
