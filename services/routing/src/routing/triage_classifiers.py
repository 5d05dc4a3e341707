"""Which classifier triage uses, per process: the rules over the current category tree
(cached per tree version), or the trained model when ``TRIAGE_CLASSIFIER=model``.

``configure`` runs once in the app factory (a missing model file fails start-up there,
with the command that makes one); ``warm_up`` runs after migrations and before the
consumers, so jieba's dictionary load (about a second) never delays a complaint.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from complaint_runtime.database import Database
from sqlalchemy.ext.asyncio import AsyncSession

from routing.category_db import CategoryTreeRepository
from routing.config import RoutingSettings
from routing.domain import segmentation
from routing.domain.categories import DEFAULT_TREE
from routing.domain.classification import Classifier, KeywordClassifier

if TYPE_CHECKING:  # scikit-learn loads only when the model is configured
    from routing.model import ModelClassifier


class TriageClassifiers:
    def __init__(self, *, model: ModelClassifier | None = None) -> None:
        self.model = model
        self._rules = KeywordClassifier(tree=DEFAULT_TREE)
        self._version = DEFAULT_TREE.version

    async def for_session(self, session: AsyncSession) -> Classifier:
        """The classifier for the next triage; rebuilt when an administrator changed the
        tree (its version moved) since the last one."""
        if self.model is not None:
            return self.model
        repository = CategoryTreeRepository(session)
        version = await repository.version()
        if version != self._version:
            tree = await repository.tree()
            self._rules = KeywordClassifier(tree=tree)
            self._version = tree.version
        return self._rules


_current = TriageClassifiers()


def configure(settings: RoutingSettings) -> TriageClassifiers:
    """Pick the classifier the settings ask for; raises when the model cannot be loaded."""
    global _current
    model = None
    if settings.triage_classifier == "model":
        from routing.model import ModelClassifier

        try:
            model = ModelClassifier.load(settings.triage_model_path)
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"TRIAGE_CLASSIFIER=model: {exc}") from exc
    _current = TriageClassifiers(model=model)
    return _current


def current() -> TriageClassifiers:
    return _current


async def classifier_for(session: AsyncSession) -> Classifier:
    return await _current.for_session(session)


async def warm_up(database: Database) -> None:
    """Load jieba and the stored tree before consuming (start-up, not the request path)."""
    seconds = await asyncio.to_thread(segmentation.initialise)
    async with database.sessions() as session:
        await _current.for_session(session)
    if seconds:
        import structlog

        structlog.get_logger(__name__).info("jieba initialised", seconds=round(seconds, 2))
