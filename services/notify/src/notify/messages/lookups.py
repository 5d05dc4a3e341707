"""What preparing a batch of deliveries looks up first: the intake contacts of its customer
messages, in one request per :data:`CONTACT_BATCH_MAX` complaints (held in memory for the
round only, never stored), and the key of the recipient hashes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from complaint_runtime.consumer import TransientError
from complaint_runtime.errors import NotConfigured, NotFound
from complaint_runtime.signing_keys import SigningKey

from notify.adapters.internal_api import (
    CONTACT_BATCH_MAX,
    BadResponse,
    BatchUnsupported,
    CustomerContact,
    InternalApi,
)
from notify.config import NotifySettings

log = structlog.get_logger(__name__)

ID_LENGTH = 36  # a complaint id (UUIDv7 as text): anything longer is looked up on its own


class NeedsContacts(Protocol):
    @property
    def complaint_id(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def recipient_role(self) -> str: ...
    @property
    def context(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class _Failed:
    """What a delivery's own lookup would have raised: raised anew for each delivery."""

    kind: type[Exception]
    message: str


class PrefetchedContacts:
    """The intake contacts of one claimed batch, read before its deliveries are prepared and
    dropped with the round (never stored). Per complaint, the contact or what its own
    lookup would have raised: :class:`TransientError` (intake down or 5xx),
    :class:`NotFound` (intake does not know it), :class:`BadResponse` (an off-contract
    entry); a complaint not in it is looked up on its own."""

    def __init__(self, outcomes: Mapping[str, CustomerContact | _Failed] | None = None):
        self._outcomes = dict(outcomes or {})

    def __len__(self) -> int:
        return len(self._outcomes)

    def __contains__(self, complaint_id: object) -> bool:
        return complaint_id in self._outcomes

    def get(self, complaint_id: str) -> CustomerContact | None:
        """The prefetched contact, None when there is none; raises the lookup's error."""
        outcome = self._outcomes.get(complaint_id)
        if isinstance(outcome, _Failed):
            raise outcome.kind(outcome.message)
        return outcome


def contacts_needed(row: NeedsContacts) -> Iterator[str]:
    """The complaints whose intake contact preparing ``row`` reads: a customer message's
    own, and for a duplicate notice the complaint that stands. Staff notices read none:
    they are written from notify's own facts of the complaint (never the customer's
    contacts)."""
    if row.recipient_role != "customer":
        return
    yield row.complaint_id
    if row.template == "duplicate_notice":
        standing = row.context.get("duplicate_of")
        if isinstance(standing, str) and standing:
            yield standing


def recipient_hash_key(settings: NotifySettings) -> bytes:
    """NOTIFY_RECIPIENT_HASH_KEY, else a key derived from notify's own private key
    (AUTH_SIGNING_KEY, which no other service holds); :class:`NotConfigured` without
    either, so notify does not start hashing recipients with a guessable key."""
    if settings.notify_recipient_hash_key:
        return settings.notify_recipient_hash_key.encode()
    if not settings.auth_signing_key:
        raise NotConfigured(
            "Neither NOTIFY_RECIPIENT_HASH_KEY nor AUTH_SIGNING_KEY is set on notify.",
            kind="recipient-hash-key-not-configured",
        )
    # A sub-key of the private key, labelled: the hash reveals nothing of the key, and
    # rotating the key changes the hashes of later deliveries only.
    return SigningKey.from_jwk(settings.auth_signing_key).derive(b"notify recipient hash key")


class ContactPrefetcher:
    """Reads the intake contacts a claimed batch needs before its deliveries are prepared."""

    def __init__(self, api: InternalApi):
        self._api = api

    async def prefetch_contacts(self, rows: Sequence[NeedsContacts]) -> PrefetchedContacts:
        """The intake contacts every delivery of a claimed batch needs, each complaint asked
        once, in one request per :data:`CONTACT_BATCH_MAX` complaints.

        intake down or answering 5xx: every delivery that needed the request gets its
        :class:`TransientError`. An intake without the batch lookup, or an off-contract
        answer as a whole: nothing prefetched for those complaints, each delivery asks on
        its own (and gets today's answer)."""
        ids = list(
            dict.fromkeys(i for row in rows for i in contacts_needed(row) if len(i) <= ID_LENGTH)
        )
        chunks = [ids[n : n + CONTACT_BATCH_MAX] for n in range(0, len(ids), CONTACT_BATCH_MAX)]
        outcomes: dict[str, CustomerContact | _Failed] = {}
        for answered in await asyncio.gather(*(self._prefetch(chunk) for chunk in chunks)):
            outcomes.update(answered)
        return PrefetchedContacts(outcomes)

    async def _prefetch(self, ids: list[str]) -> dict[str, CustomerContact | _Failed]:
        try:
            batch = await self._api.customer_contacts(ids)
        except TransientError as exc:
            return dict.fromkeys(ids, _Failed(TransientError, str(exc)))
        except (BatchUnsupported, BadResponse) as exc:
            log.warning(
                "contacts looked up one by one",
                reason=f"{type(exc).__name__}: {exc}",
                complaints=len(ids),
            )
            return {}
        outcomes: dict[str, CustomerContact | _Failed] = dict(batch.found)
        for complaint_id in batch.not_found:
            outcomes[complaint_id] = _Failed(NotFound, "intake answered 404")
        for complaint_id, reason in batch.bad.items():
            outcomes[complaint_id] = _Failed(BadResponse, reason)
        return outcomes
