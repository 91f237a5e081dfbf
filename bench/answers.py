#!/usr/bin/env python3
"""The answers of the benchmark's queries, to check that a speed-up changed none.

    python bench/answers.py --base-url http://127.0.0.1:8000 --record before.json
    python bench/answers.py --base-url http://127.0.0.1:8000 --compare before.json

For every search query of the benchmark (common, rare, prefix, typo, a few
several-word and web-search ones, with and without a tag filter), the first
pages of the gallery's list, the Tenor-compatible search and tag autocomplete,
it records the answer as the ids (or tag names) in order (and a digest of
the rest of each image: title, tags, text, sizes; not its times), following
`next_cursor` for the first `PAGES` pages. Requests carry `Cache-Control:
no-cache`, so the database answers, not the response cache. Cursors are keyed
by page number, not by value: they are signed with the server's secret, which
differs between runs. `run.py --answers FILE` does the same at every library
size (records FILE when it does not exist, else compares with it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

PAGES = 3
FRESH = {"Cache-Control": "no-cache"}
# Beyond the benchmark's one-word queries: the ts_rank path, web-search syntax, a tag filter.
EXTRA_SEARCHES = ["happy dance", "cat dog", '"happy dance"', "cat -dog", "sad or angry"]
TAG_FILTERED = [("cat", "happy"), ("dan", "dance"), ("", "cat")]


def _search_paths(queries: dict[str, list[str]]) -> list[str]:
    words = [w for kind in ("common", "rare", "prefix", "typo") for w in queries.get(kind, [])]
    paths = [f"/api/v1/images?q={quote(w)}" for w in [*words, *EXTRA_SEARCHES]]
    paths += [
        f"/api/v1/images?{'q=' + quote(q) + '&' if q else ''}tag={quote(tag)}&limit=20"
        for q, tag in TAG_FILTERED
    ]
    return [*paths, "/api/v1/images", "/api/v1/images?limit=100"]


# Not digested: the links name the server's address, and the seeder dates rows
# back from the moment it runs, so two seedings of the same library differ there.
_VARYING = ("url", "thumbnail_url", "created_at", "updated_at")


def _digest(items: list[dict[str, Any]]) -> str:
    """Everything else a page shows: titles, tags, text, sizes..."""
    shown = [{k: v for k, v in item.items() if k not in _VARYING} for item in items]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]


def _pages(client: httpx.Client, path: str) -> list[list[str]]:
    """Each page: its ids in order, then a digest of the rest of what it shows."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(PAGES):
        url = path + (("&" if "?" in path else "?") + f"cursor={quote(cursor)}" if cursor else "")
        response = client.get(url, headers=FRESH)
        response.raise_for_status()
        body = response.json()
        pages.append([item["id"] for item in body["items"]] + [_digest(body["items"])])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return pages


def collect(base_url: str, queries: dict[str, list[str]]) -> dict[str, Any]:
    """path -> pages of ids (or tag names), in order."""
    answers: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for path in _search_paths(queries):
            answers[path] = _pages(client, path)
        for word in queries.get("common", []):
            path = f"/v2/search?q={quote(word)}&limit=20"
            response = client.get(path, headers=FRESH)
            if response.status_code == 200:
                answers[path] = [r["id"] for r in response.json()["results"]]
        for prefix in queries.get("tag_prefix", []):
            path = f"/api/v1/tags?prefix={quote(prefix)}&limit=10"
            response = client.get(path, headers=FRESH)
            response.raise_for_status()
            answers[path] = response.json()
    return answers


def _ids(answer: Any) -> Any:
    """An answer without its page digests (the last item of each page)."""
    if answer and isinstance(answer[0], list):
        return [page[:-1] for page in answer]
    return answer


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs, one line per path (paths only one side has count too)."""
    found = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            found.append(f"{path}: missing now")
        elif path not in before:
            found.append(f"{path}: not recorded before")
        elif before[path] != after[path]:
            what = "ids or their order" if _ids(before[path]) != _ids(after[path]) else "content"
            found.append(f"{path}: answer differs ({what})")
    return found


def dump(known: dict[str, dict[str, Any]]) -> str:
    """size -> path -> answer, one path per line (readable diffs, a third of the size)."""
    sizes = [
        f"{json.dumps(size)}: {{\n"
        + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in answers.items())
        + "\n }"
        for size, answers in known.items()
    ]
    return "{\n " + ",\n ".join(sizes) + "\n}\n"


def check(path: Path, size: int, found: dict[str, Any]) -> dict[str, Any]:
    """`run.py --answers FILE`: compare with FILE's answers at this library size,
    or record them there when it has none (FILE maps size -> answers)."""
    known: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if str(size) not in known:
        known[str(size)] = found
        path.write_text(dump(known))
        return {"paths": len(found), "recorded": str(path)}
    differ = differences(known[str(size)], found)
    return {"paths": len(found), "compared": str(path), "differ": differ}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--queries-from", type=Path, help="a results JSON (its `queries`)")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--record", type=Path)
    action.add_argument("--compare", type=Path)
    args = parser.parse_args(argv)
    queries: dict[str, list[str]] = {}
    if args.queries_from:
        queries = json.loads(args.queries_from.read_text())["queries"]
    answers = collect(args.base_url, queries)
    if args.record:
        args.record.write_text(dump({"any": answers}))
        print(f"answers: recorded {len(answers)} paths in {args.record}")
        return 0
    before = json.loads(args.compare.read_text())
    # A file `run.py --answers` wrote holds one set per library size: with only one, use it.
    if "any" not in before and len(before) == 1:
        before = {"any": next(iter(before.values()))}
    found = differences(before.get("any", before), answers)
    for line in found:
        print(f"answers: {line}")
    print(f"answers: {len(answers)} paths, {len(found)} differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
