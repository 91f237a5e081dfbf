"""Uploads through `POST /api/v1/images`, the event loop's responsiveness meanwhile,
and the server's memory while it refuses a 1 GB upload."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import select
import socket
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import psutil

REFUSAL_TIME_LIMIT_S = 120.0
HUGE_BYTES = 1024**3
SEND_BLOCK = 256 * 1024


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (what wrk reports too)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def get_token(base_url: str, username: str, password: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"username": username, "password": password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


class LoopProbe:
    """GET /healthz every 20 ms from a thread: if the server's event loop is blocked
    (CPU work on it instead of in a worker thread), this latency shows it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    connection.request("GET", "/healthz")
                    connection.getresponse().read()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    continue
                self.samples.append(time.perf_counter() - started)
                self._stop.wait(0.02)
        finally:
            connection.close()

    def __enter__(self) -> LoopProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=35)

    def result(self) -> dict[str, Any]:
        return {"samples": len(self.samples), **summary_ms(self.samples)}


async def _upload_all(
    base_url: str, token: str, files: Sequence[bytes], concurrency: int, label: str
) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    statuses: list[int] = []
    queue = list(enumerate(files))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        limits=limits,
    ) as client:

        async def worker() -> None:
            while queue:
                serial, data = queue.pop(0)
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/images",
                    files={"file": (f"bench-{label}-{serial}.gif", data, "image/gif")},
                    data={"title": f"bench upload {label} {serial}", "tags": "bench,upload"},
                )
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, statuses, wall


def upload_series(
    base_url: str, token: str, files: Sequence[bytes], concurrency: int, label: str
) -> dict[str, Any]:
    latencies, statuses, wall = asyncio.run(_upload_all(base_url, token, files, concurrency, label))
    total = sum(len(f) for f in files)
    bad = {str(s): statuses.count(s) for s in set(statuses) if s != 201}
    return {
        "clients": concurrency,
        "uploads": len(files),
        "mean_file_bytes": round(total / len(files)),
        **summary_ms(latencies),
        "uploads_per_s": round(len(files) / wall, 2),
        "mb_per_s": round(total / wall / 1e6, 2),
        "non_201": bad,
    }


# --------------------------------------------------------------------------- 1 GB refusal


class RssSampler:
    """The server's resident memory every 2 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(0.002)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _huge_body(boundary: str, total: int) -> Iterator[bytes]:
    yield (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="huge.gif"\r\n'
        "Content-Type: image/gif\r\n\r\n"
    ).encode()
    block = b"GIF89a" + bytes(SEND_BLOCK - 6)
    sent = 0
    while sent < total:
        piece = block[: min(SEND_BLOCK, total - sent)]
        sent += len(piece)
        yield piece
        block = bytes(SEND_BLOCK)
    yield f"\r\n--{boundary}--\r\n".encode()


def refuse_huge(port: int, token: str, pid: int, *, with_length: bool) -> dict[str, Any]:
    """Stream a 1 GiB multipart upload over a raw socket (with or without
    Content-Length), stop as soon as the server answers, and report what it took."""
    boundary = "benchboundary" + os.urandom(8).hex()
    parts = list(_huge_body(boundary, 0))  # head and tail only, for the length
    body_length = len(parts[0]) + HUGE_BYTES + len(parts[-1])
    lines = [
        "POST /api/v1/images HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Bearer {token}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        "Connection: close",
        f"Content-Length: {body_length}" if with_length else "Transfer-Encoding: chunked",
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    cut_off = "server answered"
    started = time.perf_counter()
    with RssSampler(pid) as rss:
        try:
            sock.sendall(head)
            sock.setblocking(False)
            chunks = _huge_body(boundary, HUGE_BYTES)
            answered = False
            for chunk in chunks:
                framed = chunk if with_length else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                view = memoryview(framed)
                while view and not answered:
                    if time.perf_counter() - started > REFUSAL_TIME_LIMIT_S:
                        raise TimeoutError
                    readable, writable, _ = select.select([sock], [sock], [], 5)
                    if readable:
                        answered = True
                        break
                    if writable:
                        count = sock.send(view)
                        sent += count
                        view = view[count:]
                if answered:
                    break
            else:
                if not with_length:
                    sock.setblocking(True)
                    sock.sendall(b"0\r\n\r\n")
                cut_off = "whole body sent"
        except (BrokenPipeError, ConnectionResetError):
            cut_off = "connection closed by the server"
        except TimeoutError:
            cut_off = f"gave up after {REFUSAL_TIME_LIMIT_S:.0f} s"
        status, detail = _read_status(sock)
        elapsed = time.perf_counter() - started
        time.sleep(0.2)  # let the sampler see the server settle
    sock.close()
    return {
        "content_length_sent": with_length,
        "status": status,
        "detail": detail,
        "how_it_ended": cut_off,
        "body_bytes_sent": sent,
        "body_mb_sent": round(sent / 1e6, 2),
        "seconds_to_answer": round(elapsed, 3),
        "rss_baseline_mb": round(rss.baseline / 1e6, 1),
        "rss_peak_mb": round(rss.peak / 1e6, 1),
        "rss_growth_mb": round((rss.peak - rss.baseline) / 1e6, 1),
    }


def _read_status(sock: socket.socket) -> tuple[int | None, str]:
    sock.setblocking(True)
    sock.settimeout(10)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data or len(data) < 4096:
            block = sock.recv(65536)
            if not block:
                break
            data += block
    if not data.startswith(b"HTTP/"):
        return None, "no response"
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), body[:200].decode(errors="replace")
