"""Which classifier triage uses: the keyword rules over the current category tree (cached
per tree version), or the trained model when ``TRIAGE_CLASSIFIER=model``.

``load_classifiers`` runs once, in the composition root (a missing model file fails
start-up there, with the command that makes one); ``warm_up`` runs after migrations and
before the consumers, so jieba's dictionary load (about a second) never delays a complaint.
scikit-learn and skops (the optional ``model`` extra) are imported only for the model.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog
from complaint_runtime.database import Database
from sqlalchemy.ext.asyncio import AsyncSession

from routing.categories.db import CategoryTreeRepository
from routing.categories.domain.tree import DEFAULT_TREE
from routing.config import RoutingSettings
from routing.triage.domain import segmentation
from routing.triage.domain.classification import Classifier, KeywordClassifier

if TYPE_CHECKING:  # scikit-learn loads only when the model is configured
    from routing.triage.model import ModelClassifier

log = structlog.get_logger(__name__)

# Set in ``Session.info`` once the transaction looked at the tree's version.
_TREE_CHECKED = "routing.category_tree_checked"


class TriageClassifiers:
    """The process's classifier for triage. With no model, the keyword classifier of the
    category tree's latest version, rebuilt when an administrator changes the tree."""

    def __init__(self, *, model: ModelClassifier | None = None) -> None:
        self.model = model
        self._keyword_classifier = KeywordClassifier(tree=DEFAULT_TREE)
        self._version = DEFAULT_TREE.version

    async def for_session(self, session: AsyncSession) -> Classifier:
        """The classifier for the next triage; rebuilt when an administrator changed the
        tree (its version moved) since the last one."""
        if self.model is not None:
            return self.model
        if session.info.get(_TREE_CHECKED):
            return self._keyword_classifier  # once per transaction (a consumer's batch)
        repository = CategoryTreeRepository(session)
        version = await repository.version()
        if version != self._version:
            tree = await repository.tree()
            self._keyword_classifier = KeywordClassifier(tree=tree)
            self._version = tree.version
        session.info[_TREE_CHECKED] = True
        return self._keyword_classifier


def load_classifiers(settings: RoutingSettings) -> TriageClassifiers:
    """The classifiers the settings ask for; raises ``RuntimeError`` when the model cannot
    be loaded (missing file, foreign file, scikit-learn not installed)."""
    if settings.triage_classifier != "model":
        return TriageClassifiers()
    try:
        from routing.triage.model import ModelClassifier
    except ImportError as exc:
        raise RuntimeError(
            f"TRIAGE_CLASSIFIER=model needs scikit-learn and skops (routing's `model` extra): {exc}"
        ) from exc
    try:
        model = ModelClassifier.load(settings.triage_model_path)
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"TRIAGE_CLASSIFIER=model: {exc}") from exc
    return TriageClassifiers(model=model)


async def warm_up(*, classifiers: TriageClassifiers, database: Database) -> None:
    """Load jieba and the stored tree before consuming (start-up, not the request path)."""
    seconds = await asyncio.to_thread(segmentation.initialise)
    async with database.sessions() as session:
        await classifiers.for_session(session)
    if seconds:
        log.info("jieba initialised", seconds=round(seconds, 2))
