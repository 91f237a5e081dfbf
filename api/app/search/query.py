"""Turn what a person typed into a PostgreSQL full-text query.

Plain words (the common case) become, for each word, "any of": its English
word forms ("dancing" finds "dance"), the word as a prefix ("shru" finds
"shrug") and, when no word of the library starts with it, the library's words
within two edits ("shurg" finds "shrug"). All words must match.

Text with web-search syntax (quotes, `-exclusion`, `or`) goes to
`websearch_to_tsquery`, which implements exactly that syntax.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_WORDS = 8
MAX_WORD_LENGTH = 40
# Letters and digits, but not the spacing modifier letters (U+02B0-U+02FF):
# PostgreSQL's unaccent turns some of them into quotes or a colon, which are
# tsquery syntax in the prefix query ("a\u02d0b" -> "a:b:*", a 500 before this).
_WORD = re.compile(r"[^\W_\u02b0-\u02ff]+")
_ADVANCED = re.compile(r'"|(^|\s)-\w|\s(or|OR)\s')


def _spelled_out(text: str) -> str:
    """Each character in its NFKC form, set apart when that form is not a word on its own
    ("1½" -> "1 1" U+2044 "2 ", as unaccent's " 1/2"); "²" -> "2" and "ﬁ" -> "fi" stay
    in their word."""
    parts = []
    for char in text:
        form = unicodedata.normalize("NFKC", char)
        parts.append(form if form == char or _WORD.fullmatch(form) else f" {form} ")
    return "".join(parts)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    words: tuple[str, ...]
    advanced: bool


def parse_query(text: str) -> ParsedQuery | None:
    """None when there is nothing searchable (only punctuation, say).

    Words are taken from the NFKC form, which spells out compatibility characters
    that unaccent would expand into several words or punctuation ("1½" -> "1 1", U+2044, "2",
    "⑴" -> "(1)"), so each word stays one tsquery operand (issue 15).
    """
    found = _WORD.findall(text if text.isascii() else _spelled_out(text))
    words = tuple(dict.fromkeys(w.lower()[:MAX_WORD_LENGTH] for w in found))[:MAX_WORDS]
    if not words:
        return None
    return ParsedQuery(text=text, words=words, advanced=bool(_ADVANCED.search(text)))
