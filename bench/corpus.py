"""The synthetic library's words: Zipf-distributed titles, descriptions, recognised
text and tags from a vocabulary of about 3,200 words, and the search queries the
benchmark asks (a common word, a rare word, a prefix, a typo).

Everything is drawn from one seeded generator, so a library of N images is the
same on every run and the first N rows of a larger library are exactly the
smaller one (the benchmark grows one library: 1k, then 10k, then 100k).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.txt")

# The most frequent words of any text; they rank above every content word.
# fmt: off
FUNCTION_WORDS = (
    "the", "a", "i", "me", "my", "you", "when", "is", "it", "to", "of", "and", "this", "that",
    "in", "on", "with", "your", "be", "so", "just", "what", "no", "not", "we", "they", "he",
    "she", "are", "was", "for", "like", "at", "all", "how", "why", "do", "dont", "im", "can",
    "get", "got", "go", "going", "out", "up", "now", "one", "his", "her", "our", "who", "oh",
    "yes", "too",
)
# fmt: on

# Zipf exponent for text over function + content words; tags follow Zipf-Mandelbrot
# (1 / (rank + offset)) over content words, so that the top tag is on about 5 % of
# the images rather than a third of them.
TEXT_EXPONENT = 1.0
TAG_EXPONENT = 1.0
TAG_RANK_OFFSET = 10
# Tags per image: 0..8, most have 2-4.
TAG_COUNT_WEIGHTS = (4, 8, 18, 24, 20, 12, 7, 4, 3)
TWO_WORD_TAG_SHARE = 0.15
QUERIES_PER_KIND = 8


def load_content_words(path: Path = VOCABULARY_FILE) -> list[str]:
    words: list[str] = []
    seen: set[str] = set()
    for line in path.read_text().splitlines():
        word = line.strip()
        if word and not word.startswith("#") and word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_cumulative(count: int, exponent: float, offset: int = 0) -> list[float]:
    weights = (1.0 / ((rank + offset) ** exponent) for rank in range(1, count + 1))
    return list(itertools.accumulate(weights))


@dataclass
class Metadata:
    title: str
    description: str
    ocr_text: str | None
    tags: list[str]
    words: set[str] = field(default_factory=set)  # every word used, for the query picks


class Corpus:
    def __init__(self, content_words: Sequence[str] | None = None) -> None:
        self.content = list(content_words or load_content_words())
        self.text_words = [*FUNCTION_WORDS, *self.content]
        self._text_cum = zipf_cumulative(len(self.text_words), TEXT_EXPONENT)
        self._tag_cum = zipf_cumulative(len(self.content), TAG_EXPONENT, TAG_RANK_OFFSET)
        self.rank = {word: rank for rank, word in enumerate(self.content, start=1)}

    def _text(self, rng: random.Random, low: int, high: int) -> list[str]:
        return rng.choices(self.text_words, cum_weights=self._text_cum, k=rng.randint(low, high))

    def metadata(self, rng: random.Random) -> Metadata:
        title_words = self._text(rng, 2, 8)
        description_words = self._text(rng, 5, 40) if rng.random() < 0.6 else []
        ocr_words = self._text(rng, 3, 25) if rng.random() < 0.5 else []
        tags: list[str] = []
        for _ in range(rng.choices(range(len(TAG_COUNT_WEIGHTS)), TAG_COUNT_WEIGHTS)[0]):
            first, second = rng.choices(self.content, cum_weights=self._tag_cum, k=2)
            tag = f"{first} {second}" if rng.random() < TWO_WORD_TAG_SHARE else first
            if tag not in tags:
                tags.append(tag)
        ocr = " ".join(ocr_words)
        if ocr and rng.random() < 0.5:
            ocr = ocr.upper()  # meme captions are often in capitals
        title = " ".join(title_words)
        return Metadata(
            title=title[:1].upper() + title[1:],
            description=(" ".join(description_words).capitalize() + ".")
            if description_words
            else "",
            ocr_text=ocr or None,
            tags=tags,
            words={*title_words, *description_words, *ocr_words, *" ".join(tags).split()},
        )


@dataclass
class Queries:
    common: list[str]
    rare: list[str]
    prefix: list[str]
    typo: list[str]
    tag_prefix: list[str]

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "common": self.common,
            "rare": self.rare,
            "prefix": self.prefix,
            "typo": self.typo,
            "tag_prefix": self.tag_prefix,
        }


def pick_queries(corpus: Corpus, smallest_library: Sequence[Metadata]) -> Queries:
    """Deterministic queries that make sense at every library size.

    common: the most frequent content words (each in several % of the images);
    rare:   words from the far tail that occur in only one or two images of the
            smallest library (and so in roughly 0.1-0.2 % of any larger one);
    prefix: the first 3-4 letters of frequent words ("danc" for dance), not a word;
    typo:   a frequent word with two inner letters swapped ("dacne"), not a word.
    """
    words = set(corpus.content) | set(FUNCTION_WORDS)
    counts: Counter[str] = Counter()
    for item in smallest_library:
        counts.update(item.words)
    common = corpus.content[:QUERIES_PER_KIND]
    tail_start = len(corpus.content) * 2 // 3
    rare = [w for w in corpus.content[tail_start:] if 1 <= counts[w] <= 2 and len(w) >= 5]
    rare = rare[:QUERIES_PER_KIND]
    frequent = [w for w in corpus.content[:80] if len(w) >= 5]
    prefix: list[str] = []
    typo: list[str] = []
    for word in frequent:
        head = word[:4] if len(word) >= 6 else word[:3]
        overlaps = any(head.startswith(p) or p.startswith(head) for p in prefix)
        if head not in words and not overlaps and len(prefix) < QUERIES_PER_KIND:
            prefix.append(head)
        middle = len(word) // 2
        swapped = word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]
        if (
            swapped != word
            and not any(swapped in w for w in words)
            and len(typo) < QUERIES_PER_KIND
        ):
            typo.append(swapped)
    # What a person types into the tag box: one, two or three letters of a popular tag.
    tag_prefix: list[str] = []
    for index, word in enumerate(corpus.content[: QUERIES_PER_KIND * 2]):
        head = word[: 1 + index % 3]
        if head not in tag_prefix and len(tag_prefix) < QUERIES_PER_KIND:
            tag_prefix.append(head)
    return Queries(common=common, rare=rare, prefix=prefix, typo=typo, tag_prefix=tag_prefix)
