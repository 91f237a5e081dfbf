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
from dataclasses import dataclass

MAX_WORDS = 8
MAX_WORD_LENGTH = 40
_WORD = re.compile(r"[^\W_]+")
_ADVANCED = re.compile(r'"|(^|\s)-\w|\s(or|OR)\s')


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    words: tuple[str, ...]
    advanced: bool


def parse_query(text: str) -> ParsedQuery | None:
    """None when there is nothing searchable (only punctuation, say)."""
    words = tuple(dict.fromkeys(w.lower()[:MAX_WORD_LENGTH] for w in _WORD.findall(text)))[
        :MAX_WORDS
    ]
    if not words:
        return None
    return ParsedQuery(text=text, words=words, advanced=bool(_ADVANCED.search(text)))
