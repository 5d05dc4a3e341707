"""Search terms of a case and of a query (§ case lists): the same words on SQLite and
PostgreSQL, Chinese included, without a full-text engine of either database.

A case's terms are stored in a table when the case is stored (``case_search_terms``); a
query is turned into terms the same way and a case matches when it holds **every** term of
the query (AND), or when the query is, as a whole, its reference, order reference or
customer reference (case-insensitive).

- Chinese: routing's jieba segmentation (the triage dictionary, no HMM), so a two-character
  word such as 退款 or 漏水 is one term. A case is indexed in jieba's search mode, which adds
  the dictionary words inside a longer word (卫生间 → 卫生, 卫生间), a query in the default
  mode: a query word is found whether the case's text holds it alone or inside a longer word.
- English and digits: lower-cased words (``[a-z][a-z0-9']*`` or a run of digits), without
  stemming; single letters and a few function words are dropped.
- Text is NFKC-normalised first (full-width ＯＲＤ１２ → ord12).
- Bounds: a term has at most ``MAX_TERM_LENGTH`` characters (longer words are dropped), a
  case at most ``MAX_TERMS_PER_CASE`` distinct terms (whole values first, then words in
  text order: words beyond the bound are not searchable), a query at most
  ``MAX_QUERY_TERMS`` (more is refused, never silently cut: a shorter AND would widen the
  answer).

A limit of the approach: segmentation depends on the dictionary, which grows when an
administrator adds sub-category keywords. A case indexed before a new word was added holds
its parts (search mode), so a query for the new word as a whole may miss it while a query
for its parts finds it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from complaint_runtime.errors import InvalidInput, field_error

from routing.triage.domain.segmentation import search_words, segment

MAX_TERM_LENGTH: Final = 40
MAX_WHOLE_VALUE_LENGTH: Final = 100  # the terms column; longer whole values are not indexed
MAX_TERMS_PER_CASE: Final = 400
MAX_QUERY_TERMS: Final = 12
MAX_QUERY_LENGTH: Final = 200

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9']*|[0-9]+")

STOP_WORDS_EN: Final = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has",
        "have", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or",
        "our", "so", "that", "the", "their", "then", "there", "this", "to", "was", "we",
        "were", "with", "you", "your",
    }
)  # fmt: skip
STOP_WORDS_ZH: Final = frozenset(
    {
        "的", "了", "是", "在", "和", "与", "及", "或", "也", "就", "都", "而", "着", "吧",
        "吗", "呢", "啊", "呀", "把", "被", "让", "给", "这", "那", "我", "你", "他", "她",
        "它", "我们", "你们", "他们", "这个", "那个", "一个", "之", "其", "地", "得",
    }
)  # fmt: skip

Segmenter = Callable[[str], Iterable[str]]


def _default_words(text: str) -> Iterable[str]:
    return (word for word, _, _ in segment(text).tokens)


def _terms_of_token(token: str) -> Iterable[str]:
    if _CJK.search(token):
        if token not in STOP_WORDS_ZH and len(token) <= MAX_TERM_LENGTH:
            yield token
        return
    for word in _ENGLISH_WORD.findall(token.lower()):
        single_letter = len(word) == 1 and not word.isdigit()
        if not single_letter and word not in STOP_WORDS_EN and len(word) <= MAX_TERM_LENGTH:
            yield word


def words(text: str, *, segmenter: Segmenter = _default_words) -> list[str]:
    """The distinct search words of ``text`` in text order (stop-words, punctuation and
    single letters dropped). ``segmenter``: jieba's default mode unless given."""
    found: dict[str, None] = {}
    for token in segmenter(unicodedata.normalize("NFKC", text)):
        for term in _terms_of_token(token):
            found.setdefault(term, None)
    return list(found)


def whole_value(value: str | None) -> str | None:
    """A reference as one term: stripped, NFKC, lower-cased; None when empty or too long."""
    if value is None:
        return None
    normalised = unicodedata.normalize("NFKC", value).strip().lower()
    return normalised if 0 < len(normalised) <= MAX_WHOLE_VALUE_LENGTH else None


def case_terms(
    *,
    reference: str,
    order_ref: str | None = None,
    customer_ref: str | None = None,
    subject: str | None = None,
    description: str | None = None,
) -> tuple[str, ...]:
    """A case's terms: its reference, order reference and customer reference as whole
    values, then the words of reference, order reference, subject and description (search
    mode); distinct, at most ``MAX_TERMS_PER_CASE``."""
    found: dict[str, None] = {}
    for value in (reference, order_ref, customer_ref):
        term = whole_value(value)
        if term is not None:
            found.setdefault(term, None)
    for text in (reference, order_ref, subject, description):
        for term in words(text or "", segmenter=search_words):
            found.setdefault(term, None)
            if len(found) >= MAX_TERMS_PER_CASE:
                return tuple(found)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """``q`` as the list query uses it: every term must be held by a case, or ``whole`` is
    one of its whole values."""

    terms: tuple[str, ...]
    whole: str | None

    @property
    def matches_nothing(self) -> bool:
        return not self.terms and self.whole is None


def parse_query(q: str) -> SearchQuery | None:
    """The terms of a search query; None for a blank query (no search). Raises
    ``InvalidInput`` for a query longer than ``MAX_QUERY_LENGTH`` characters or with more
    than ``MAX_QUERY_TERMS`` distinct words."""
    text = q.strip()
    if not text:
        return None
    if len(text) > MAX_QUERY_LENGTH:
        raise _invalid_query(f"q is longer than {MAX_QUERY_LENGTH} characters.")
    terms = words(text)
    if len(terms) > MAX_QUERY_TERMS:
        raise _invalid_query(
            f"q has {len(terms)} distinct words; a search takes at most {MAX_QUERY_TERMS}."
        )
    return SearchQuery(terms=tuple(terms), whole=whole_value(text))


def _invalid_query(detail: str) -> InvalidInput:
    return InvalidInput(
        detail, errors=[field_error("q", detail, code="too_long", location="query")]
    )
