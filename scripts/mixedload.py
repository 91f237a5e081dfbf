"""Mixed load at a steady rate through the cluster's proxy: reads, searches, web pages,
uploads and tag edits, with every answer recorded (the cluster tests and bench/soak.py).

Open loop: requests start on a fixed schedule whatever the answers take, so a slow
server shows as latency, not as a lower request rate; at most `max_in_flight` are
in flight, and a tick that finds them all busy is counted as `skipped`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

WORDS = ("cat", "dog", "fire", "fine", "party", "wow", "sad", "happy", "yes", "no")
READS = (  # (kind, weight)
    ("search", 30),
    ("search_fresh", 5),
    ("list", 10),
    ("tag", 10),
    ("image", 20),
    ("file", 10),
    ("thumbnail", 10),
    ("page", 5),
)


def make_png(seed: int, side: int = 64) -> bytes:
    """A small PNG no other call makes (the seed is in its pixels)."""
    from PIL import Image

    rng = random.Random(seed)  # noqa: S311 (test pixels, not secrets)
    pixels = bytes(rng.getrandbits(8) for _ in range(side * side * 3))
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Outcome:
    at: float  # seconds since the load started
    kind: str
    status: int  # 0: no answer (connection refused, reset, timeout)
    seconds: float
    error: str = ""


@dataclass
class Uploaded:
    id: str
    sha256: str


@dataclass
class MixedLoad:
    base_url: str
    token: str
    rate: float = 20.0  # reads per second
    upload_every: float = 2.0  # seconds between uploads (0: none)
    edit_every: float = 3.0  # seconds between tag edits (0: none)
    max_in_flight: int = 32
    timeout: float = 60.0
    local_address: str | None = None
    seed: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    uploaded: list[Uploaded] = field(default_factory=list)
    skipped: int = 0
    # Different images from every load, even with the same seed in the same process.
    _nonce: int = field(default_factory=lambda: secrets.randbits(40))
    _started: float = 0.0
    _in_flight: int = 0

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status not in (200, 201)]

    async def run(self, seconds: float, stop: asyncio.Event | None = None) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=self.local_address)
        limits = httpx.Limits(max_connections=self.max_in_flight + 4)
        async with httpx.AsyncClient(
            base_url=self.base_url, transport=transport, limits=limits, timeout=self.timeout
        ) as client:
            self._started = time.monotonic()
            stop = stop or asyncio.Event()
            tasks = [asyncio.create_task(self._reads(client, seconds, stop))]
            if self.upload_every:
                tasks.append(
                    asyncio.create_task(
                        self._every(self.upload_every, seconds, stop, self._upload, client)
                    )
                )
            if self.edit_every:
                tasks.append(
                    asyncio.create_task(
                        self._every(self.edit_every, seconds, stop, self._edit, client)
                    )
                )
            await asyncio.gather(*tasks)

    def _done(self, now: float, seconds: float, stop: asyncio.Event) -> bool:
        return stop.is_set() or now - self._started >= seconds

    async def _reads(self, client: httpx.AsyncClient, seconds: float, stop: asyncio.Event) -> None:
        rng = random.Random(self.seed)  # noqa: S311 (a reproducible mix)
        kinds = [k for k, _ in READS]
        weights = [w for _, w in READS]
        pending: set[asyncio.Task[None]] = set()
        tick = 0
        while not self._done(time.monotonic(), seconds, stop):
            tick += 1
            if self._in_flight >= self.max_in_flight:
                self.skipped += 1
            else:
                kind = rng.choices(kinds, weights)[0]
                task = asyncio.create_task(self._read(client, kind, rng.random()))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, self._started + tick / self.rate - time.monotonic()))
        if pending:
            await asyncio.gather(*pending)

    async def _every(
        self,
        interval: float,
        seconds: float,
        stop: asyncio.Event,
        action: Any,
        client: httpx.AsyncClient,
    ) -> None:
        pending: set[asyncio.Task[None]] = set()
        count = 0
        while not self._done(time.monotonic(), seconds, stop):
            count += 1
            task = asyncio.create_task(action(client, count))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, self._started + count * interval - time.monotonic()))
        if pending:
            await asyncio.gather(*pending)

    def _path(self, kind: str, pick: float) -> tuple[str, dict[str, str]]:
        word = WORDS[int(pick * len(WORDS)) % len(WORDS)]
        ids = self.uploaded
        image = ids[int(pick * len(ids)) % len(ids)].id if ids else None
        fresh = {"Cache-Control": "no-cache"}
        paths = {
            "search": (f"/api/v1/images?q={word}", {}),
            "search_fresh": (f"/api/v1/images?q={word}", fresh),
            "list": ("/api/v1/images?limit=20", {}),
            "tag": (f"/api/v1/images?tag={word}", {}),
            "page": (f"/?q={word}", {}),
        }
        if kind in paths or image is None:
            return paths.get(kind, paths["list"])
        suffix = {"image": "", "file": "/file", "thumbnail": "/thumbnail"}[kind]
        return f"/api/v1/images/{image}{suffix}", {}

    async def _read(self, client: httpx.AsyncClient, kind: str, pick: float) -> None:
        path, headers = self._path(kind, pick)
        await self._request(client, kind, "GET", path, headers=headers)

    async def _request(
        self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        self._in_flight += 1
        started = time.monotonic()
        response: httpx.Response | None = None
        error = ""
        try:
            response = await client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._in_flight -= 1
        ended = time.monotonic()
        status = response.status_code if response is not None else 0
        if response is not None and status >= 400:
            error = response.text[:200]
        self.outcomes.append(Outcome(started - self._started, kind, status, ended - started, error))
        return response

    async def _upload(self, client: httpx.AsyncClient, count: int) -> None:
        data = await asyncio.to_thread(make_png, self._nonce + self.seed * 1_000_003 + count)
        word = WORDS[count % len(WORDS)]
        response = await self._request(
            client,
            "upload",
            "POST",
            "/api/v1/images",
            headers={"Authorization": f"Bearer {self.token}"},
            files={"file": (f"load-{count}.png", data, "image/png")},
            data={"title": f"load {count} {word}", "tags": f"{word},load"},
        )
        if response is not None and response.status_code == 201:
            self.uploaded.append(Uploaded(response.json()["id"], hashlib.sha256(data).hexdigest()))

    async def _edit(self, client: httpx.AsyncClient, count: int) -> None:
        if not self.uploaded:
            return
        image = self.uploaded[count % len(self.uploaded)].id
        tags = [WORDS[(count + i) % len(WORDS)] for i in range(2)] + ["load"]
        await self._request(
            client,
            "edit",
            "PATCH",
            f"/api/v1/images/{image}",
            headers={"Authorization": f"Bearer {self.token}"},
            json={"tags": tags},
        )


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def damaged_uploads(base_url: str, uploaded: list[Uploaded]) -> list[str]:
    """Ids of 201 images whose original does not come back byte for byte."""
    damaged = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for image in uploaded:
            response = await client.get(f"/api/v1/images/{image.id}/file")
            if (
                response.status_code != 200
                or hashlib.sha256(response.content).hexdigest() != image.sha256
            ):
                damaged.append(f"{image.id}: {response.status_code}")
    return damaged
