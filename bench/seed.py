"""Grow the synthetic library: rows straight into PostgreSQL with COPY (the app's
tables `images`, `tags`, `image_tags`), objects straight into the S3 bucket.

Objects are written with plain signed HTTP PUTs (AWS Signature V4 with an
unsigned payload, over aiohttp) rather than aioboto3: on this 2-core machine
aioboto3 managed about 500 small puts a second against SeaweedFS, client-CPU
bound, and these raw PUTs about 1,000, which halves the time to seed 100,000
images (200,000 objects). The server under test still uses its own aioboto3 client.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
from app.ids import ALPHABET, ID_LENGTH
from app.images import keys

from bench.corpus import Corpus, Metadata
from bench.media import PoolImage

LIBRARY_YEARS = 3
LARGE_ROWS = 16  # rows whose original is the ~2 MB GIF, for the large-download figure
BATCH_ROWS = 2000
PUT_CONCURRENCY = 48
PUT_ATTEMPTS = 3

IMAGE_COLUMNS = (
    "id",
    "title",
    "description",
    "ocr_text",
    "mime_type",
    "extension",
    "width",
    "height",
    "frame_count",
    "duration_ms",
    "size_bytes",
    "sha256",
    "original_key",
    "thumbnail_key",
    "thumbnail_bytes",
    "created_at",
    "updated_at",
)


class SeedError(Exception):
    pass


def asyncpg_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# --------------------------------------------------------------------------- S3


class S3Writer:
    """Signed PUTs to an S3-compatible server, `PUT_CONCURRENCY` at a time."""

    def __init__(self, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str):
        self.endpoint = endpoint.rstrip("/")
        self.host = self.endpoint.split("://", 1)[1]
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self._session: aiohttp.ClientSession | None = None
        self._signing_day = ""
        self._signing_key = b""

    async def __aenter__(self) -> S3Writer:
        connector = aiohttp.TCPConnector(limit=PUT_CONCURRENCY)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=60)
        )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _key_for(self, day: str) -> bytes:
        if day != self._signing_day:
            key = f"AWS4{self.secret_key}".encode()
            for part in (day, self.region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._signing_day, self._signing_key = day, key
        return self._signing_key

    def _headers(self, path: str, content_type: str) -> dict[str, str]:
        now = datetime.datetime.now(datetime.UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload = "UNSIGNED-PAYLOAD"
        signed = "content-type;host;x-amz-content-sha256;x-amz-date"
        canonical_headers = (
            f"content-type:{content_type}\nhost:{self.host}\n"
            f"x-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n"
        )
        canonical = "\n".join(["PUT", path, "", canonical_headers, signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{digest}"
        signature = hmac.new(self._key_for(day), to_sign.encode(), hashlib.sha256).hexdigest()
        return {
            "Content-Type": content_type,
            "x-amz-date": amz_date,
            "x-amz-content-sha256": payload,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}"
            ),
        }

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        assert self._session is not None
        path = f"/{self.bucket}/{key}"  # keys are [A-Za-z0-9/._]: no escaping needed
        for attempt in range(1, PUT_ATTEMPTS + 1):
            try:
                async with self._session.put(
                    self.endpoint + path, data=data, headers=self._headers(path, content_type)
                ) as response:
                    body = await response.read()
                    if response.status == 200:
                        return
                    error = f"HTTP {response.status}: {body[:200]!r}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt == PUT_ATTEMPTS:
                raise SeedError(f"S3 PUT {key} failed: {error}")
            await asyncio.sleep(0.2 * attempt)

    async def put_many(self, items: Sequence[tuple[str, bytes, str]]) -> None:
        queue = list(reversed(items))

        async def worker() -> None:
            while queue:
                key, data, content_type = queue.pop()
                await self.put(key, data, content_type)

        await asyncio.gather(*(worker() for _ in range(min(PUT_CONCURRENCY, len(items)))))


# --------------------------------------------------------------------------- rows


@dataclass
class Row:
    id: str
    meta: Metadata
    image: PoolImage
    created_at: datetime.datetime


@dataclass
class SeedStats:
    rows: int = 0
    objects: int = 0
    object_bytes: int = 0
    generate_s: float = 0.0
    objects_s: float = 0.0
    database_s: float = 0.0
    vacuum_s: float = 0.0
    defaulted_columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        total = self.generate_s + self.objects_s + self.database_s + self.vacuum_s
        return {
            "rows_added": self.rows,
            "objects_written": self.objects,
            "object_bytes": self.object_bytes,
            "generate_s": round(self.generate_s, 2),
            "objects_s": round(self.objects_s, 2),
            "objects_per_s": round(self.objects / self.objects_s) if self.objects_s else None,
            "database_s": round(self.database_s, 2),
            "vacuum_analyze_s": round(self.vacuum_s, 2),
            "total_s": round(total, 2),
            "images_columns_left_at_default": self.defaulted_columns,
        }


@dataclass
class Library:
    """A library that only grows: row N is the same whatever the final size."""

    corpus: Corpus
    pool: list[PoolImage]
    large: PoolImage
    seed: int = 42
    size: int = 0
    smallest: list[Metadata] = field(default_factory=list)  # the first 1,000 rows' metadata

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._ids: set[str] = set()
        self._now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def _new_id(self) -> str:
        while True:
            image_id = "".join(self._rng.choices(ALPHABET, k=ID_LENGTH))
            if image_id not in self._ids:
                self._ids.add(image_id)
                return image_id

    def next_rows(self, count: int) -> list[Row]:
        rows = []
        span = LIBRARY_YEARS * 365 * 86400
        for _ in range(count):
            index = self.size
            meta = self.corpus.metadata(self._rng)
            image = self.large if index < LARGE_ROWS else self._rng.choice(self.pool)
            created = self._now - datetime.timedelta(seconds=self._rng.uniform(0, span))
            rows.append(Row(self._new_id(), meta, image, created))
            if index < 1000:
                self.smallest.append(meta)
            self.size += 1
        return rows


# Columns added by later migrations that the seeder fills when they exist, the way
# the application (not the database) would: the tags as one searchable text, and
# "already processed" (a library in use has had its background jobs run).
# tag_names (migration 0012): triggers would fill it after the links; written here, a
# bulk seed skips updating every row once more.
OPTIONAL_COLUMNS = ("tags_text", "processed_at", "phash", "tag_names")


def _optional_value(column: str, row: Row) -> object:
    if column == "tags_text":
        return " ".join(row.meta.tags)
    if column == "tag_names":
        return list(row.meta.tags)
    if column == "phash":
        # Every uploaded image has its perceptual hash (the near-duplicate check at
        # upload reads them): a stable pseudo-random one per row, from its id.
        return int.from_bytes(hashlib.sha256(row.id.encode()).digest()[:8], "big", signed=True)
    return row.created_at


async def inspect_schema(connection: asyncpg.Connection) -> tuple[list[str], list[str]]:
    """(optional columns present, other columns left to their defaults). Fails clearly
    if the images table gained a required column the seeder does not know."""
    rows = await connection.fetch(
        """
        SELECT column_name, is_nullable, column_default, is_generated, is_identity
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'images'
        """
    )
    known = set(IMAGE_COLUMNS)
    required = {
        r["column_name"]
        for r in rows
        if r["is_nullable"] == "NO"
        and r["column_default"] is None
        and r["is_generated"] == "NEVER"
        and r["is_identity"] == "NO"
    }
    missing = sorted(required - known - set(OPTIONAL_COLUMNS))
    if missing:
        raise SeedError(
            f"the images table has required column(s) {missing} that bench/seed.py does not "
            "fill; teach bench/seed.py about them"
        )
    names = [r["column_name"] for r in rows]
    optional = [c for c in OPTIONAL_COLUMNS if c in names]
    defaulted = [
        r["column_name"]
        for r in rows
        if r["column_name"] not in known
        and r["column_name"] not in OPTIONAL_COLUMNS
        and r["is_generated"] == "NEVER"
    ]
    return optional, defaulted


async def _copy_batch(
    connection: asyncpg.Connection, rows: list[Row], digests: list[str], optional: list[str]
) -> None:
    records = []
    for row, digest in zip(rows, digests, strict=True):
        image, meta = row.image, row.meta
        records.append(
            (
                row.id,
                meta.title,
                meta.description,
                meta.ocr_text,
                image.mime_type,
                image.extension,
                image.width,
                image.height,
                image.frame_count,
                image.duration_ms,
                len(image.data),
                digest,
                keys.original_key(row.id, image.extension),
                keys.thumbnail_key(row.id),
                len(image.thumbnail),
                row.created_at,
                row.created_at,
                *(_optional_value(column, row) for column in optional),
            )
        )
    names = sorted({tag for row in rows for tag in row.meta.tags})
    async with connection.transaction():
        await connection.copy_records_to_table(
            "images", records=records, columns=[*IMAGE_COLUMNS, *optional]
        )
        known = {
            r["name"]: r["id"]
            for r in await connection.fetch(
                "SELECT name, id FROM tags WHERE name = ANY($1::text[])", names
            )
        }
        new = [(name,) for name in names if name not in known]
        if new:
            await connection.copy_records_to_table("tags", records=new, columns=("name",))
            for r in await connection.fetch(
                "SELECT name, id FROM tags WHERE name = ANY($1::text[])", [n for (n,) in new]
            ):
                known[r["name"]] = r["id"]
        links = [
            (row.id, known[tag], position)
            for row in rows
            for position, tag in enumerate(row.meta.tags)
        ]
        await connection.copy_records_to_table(
            "image_tags", records=links, columns=("image_id", "tag_id", "position")
        )


async def grow(
    library: Library,
    target: int,
    database_url: str,
    s3: S3Writer,
    progress: Any = None,
) -> SeedStats:
    """Add rows (and their objects) until the library holds `target` images."""
    stats = SeedStats()
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        optional, stats.defaulted_columns = await inspect_schema(connection)
        while library.size < target:
            started = time.perf_counter()
            rows = library.next_rows(min(BATCH_ROWS, target - library.size))
            objects: list[tuple[str, bytes, str]] = []
            digests = []
            for row in rows:
                data, digest = row.image.for_row(row.id)
                digests.append(digest)
                objects.append(
                    (keys.original_key(row.id, row.image.extension), data, row.image.mime_type)
                )
                objects.append((keys.thumbnail_key(row.id), row.image.thumbnail, "image/webp"))
            stats.generate_s += time.perf_counter() - started

            started = time.perf_counter()
            await s3.put_many(objects)  # objects first: a row never points to a missing object
            stats.objects_s += time.perf_counter() - started
            stats.objects += len(objects)
            stats.object_bytes += sum(len(data) for _, data, _ in objects)

            started = time.perf_counter()
            await _copy_batch(connection, rows, digests, optional)
            stats.database_s += time.perf_counter() - started
            stats.rows += len(rows)
            if progress is not None:
                progress(library.size, target)
        started = time.perf_counter()
        # A library that has been in use has statistics; give the planner the same.
        for table in ("images", "tags", "image_tags"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        stats.vacuum_s = time.perf_counter() - started
    finally:
        await connection.close()
    return stats
