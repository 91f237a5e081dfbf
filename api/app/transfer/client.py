"""A small client for reactbin's HTTP API (httpx), shared by import and export.

Example::

    async with ReactbinClient("http://127.0.0.1:8000", Credentials(token=t)) as api:
        await api.authenticate()
        outcome = await api.upload(data, "party_parrot.gif", title="party parrot", tags=["bird"])
        async for image in api.images():
            ...

Every failure a user can cause or meet (wrong password, server down, token
expired) surfaces as `TransferError` with one line to print; refusals of a single
file are not errors but an `Outcome` the caller counts and reports.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import httpx

API = "/api/v1"
PAGE_SIZE = 100
# Transient answers worth another try: a restarting server, a proxy in between, a
# request timeout. Anything else in 4xx is the server's verdict on that file.
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
ATTEMPTS = 3
DOWNLOAD_CHUNK = 256 * 1024


class TransferError(Exception):
    """Stops the whole run; the message is one line for the terminal."""


class Gone(TransferError):
    """The image was deleted while we were at it."""


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Outcome:
    """What the server did with one upload."""

    kind: Literal["created", "duplicate", "refused", "failed"]
    status: int = 0
    image_id: str | None = None
    sha256: str | None = None
    reason: str | None = None


def _detail(response: httpx.Response) -> str:
    """The server's one-sentence reason (FastAPI's validation list is flattened)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return "; ".join(str(item.get("msg", item)) for item in detail if isinstance(item, dict))
    return str(detail) if detail else f"HTTP {response.status_code}"


def _transport_reason(exc: httpx.TransportError) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class ReactbinClient:
    def __init__(
        self,
        server: str,
        credentials: Credentials | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        connections: int = 8,
        timeout: float = 120.0,
    ) -> None:
        self.server = server.rstrip("/")
        self.credentials = credentials or Credentials()
        self._token = self.credentials.token
        self._login_lock = asyncio.Lock()
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._http = httpx.AsyncClient(
            base_url=self.server,
            transport=transport,
            limits=limits,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": "reactbin-cli"},
        )

    async def __aenter__(self) -> ReactbinClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ requests

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise TransferError(
                f"cannot reach the server at {self.server} ({_transport_reason(exc)})"
            ) from None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    # ------------------------------------------------------------------ auth

    @property
    def authenticated(self) -> bool:
        """A token is at hand (given, or from `authenticate()`)."""
        return self._token is not None

    @property
    def can_write(self) -> bool:
        creds = self.credentials
        return bool(self._token or (creds.username and creds.password))

    async def authenticate(self) -> str:
        """Log in (or check the token) once, up front, so a typo stops the run at once."""
        if not self.can_write:
            raise TransferError(
                "no credentials: give --token (REACTBIN_TOKEN) or --username and --password "
                "(REACTBIN_USERNAME, REACTBIN_PASSWORD)"
            )
        if self.credentials.username and self.credentials.password and not self.credentials.token:
            await self._login()
        response = await self._request("GET", f"{API}/auth/me", headers=self._auth())
        if response.status_code == 401:
            raise TransferError("the server refused the token (expired, revoked or mistyped)")
        self._raise_unexpected(response, "checking the token")
        return str(response.json().get("username", ""))

    async def _login(self) -> None:
        creds = self.credentials
        response = await self._request(
            "POST",
            f"{API}/auth/token",
            data={"username": creds.username or "", "password": creds.password or ""},
        )
        if response.status_code == 401:
            raise TransferError(f"wrong username or password for {self.server}")
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "a few")
            raise TransferError(f"too many failed logins; try again in {wait} seconds")
        self._raise_unexpected(response, "logging in")
        self._token = str(response.json()["access_token"])

    async def _refresh(self, stale: str | None) -> bool:
        """A long import outlives a token: log in again (once for all workers)."""
        creds = self.credentials
        if not (creds.username and creds.password):
            return False
        async with self._login_lock:
            if self._token == stale:
                await self._login()
        return True

    def _raise_unexpected(self, response: httpx.Response, doing: str) -> None:
        if response.status_code == 404 and "json" not in response.headers.get("content-type", ""):
            raise TransferError(f"{self.server} does not look like a reactbin server")
        if response.status_code >= 400:
            raise TransferError(
                f"the server answered {response.status_code} while {doing}: {_detail(response)}"
            )
        if "json" not in response.headers.get("content-type", ""):
            raise TransferError(f"{self.server} does not look like a reactbin server")

    # ------------------------------------------------------------------ writes

    async def upload(
        self,
        data: bytes,
        filename: str,
        *,
        title: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> Outcome:
        fields: dict[str, str] = {}
        if title:
            fields["title"] = title
        if description:
            fields["description"] = description
        if tags:
            fields["tags"] = ",".join(tags)
        return await self._post_file(f"{API}/images", fields, filename, data, self._upload_outcome)

    async def _post_file(
        self,
        path: str,
        fields: dict[str, Any],
        filename: str,
        data: bytes,
        outcome_of: Callable[[httpx.Response], Outcome],
    ) -> Outcome:
        """POST one file as a form: a 401 logs in again once, a transient failure
        (RETRY_STATUSES, a dropped connection) is tried again, up to ATTEMPTS."""
        last = Outcome("failed", reason="no attempt made")
        for attempt in range(ATTEMPTS):
            token = self._token
            try:
                response = await self._http.post(
                    path,
                    headers=self._auth(),
                    files={"file": (filename, data, "application/octet-stream")},
                    data=fields,
                )
            except httpx.TransportError as exc:
                last = Outcome("failed", reason=_transport_reason(exc))
            else:
                if response.status_code == 401 and attempt == 0 and await self._refresh(token):
                    continue
                outcome = outcome_of(response)
                if outcome.status not in RETRY_STATUSES:
                    return outcome
                last = outcome
            await asyncio.sleep(0.5 * 3**attempt)
        return last

    @staticmethod
    def _upload_outcome(response: httpx.Response) -> Outcome:
        status = response.status_code
        # 200: the same bytes were in the server's trash and that image came back.
        if status in (200, 201):
            body = response.json()
            return Outcome("created", status, body["id"], body.get("sha256"))
        if status == 409:
            body = response.json()
            return Outcome("duplicate", status, body.get("id"), reason=_detail(response))
        if status in RETRY_STATUSES:
            return Outcome("failed", status, reason=_detail(response))
        return Outcome("refused", status, reason=_detail(response))

    async def update(self, image_id: str, fields: dict[str, Any]) -> None:
        """PATCH what an upload cannot carry (the recognised text)."""
        for attempt in range(2):
            token = self._token
            response = await self._request(
                "PATCH", f"{API}/images/{image_id}", json=fields, headers=self._auth()
            )
            if response.status_code == 401 and attempt == 0 and await self._refresh(token):
                continue
            self._raise_unexpected(response, f"updating image {image_id}")
            return

    async def delete(self, image_id: str) -> None:
        response = await self._request("DELETE", f"{API}/images/{image_id}", headers=self._auth())
        if response.status_code not in (204, 404):
            self._raise_unexpected(response, f"deleting image {image_id}")

    async def restore(self, fields: dict[str, Any], filename: str, data: bytes) -> Outcome:
        """`POST /api/v1/backup/images`: one image with its id (created, duplicate =
        already there with these bytes, refused = a conflict or a bad entry)."""
        image_id = str(fields.get("id"))

        def outcome_of(response: httpx.Response) -> Outcome:
            status = response.status_code
            if status in (200, 201):
                kind: Literal["created", "duplicate"] = "created" if status == 201 else "duplicate"
                return Outcome(kind, status, image_id)
            if status in RETRY_STATUSES:
                return Outcome("failed", status, reason=_detail(response))
            return Outcome("refused", status, image_id, reason=_detail(response))

        return await self._post_file(f"{API}/backup/images", fields, filename, data, outcome_of)

    # ------------------------------------------------------------------ reads

    async def backup_images(self) -> AsyncIterator[dict[str, Any]]:
        """Every image with all a restore needs (owner only), oldest first."""
        async for item in self._pages(f"{API}/backup/images"):
            yield item

    async def images(self) -> AsyncIterator[dict[str, Any]]:
        """Every image, newest first, each exactly once (the server's cursor paging)."""
        async for item in self._pages(f"{API}/images"):
            yield item

    async def _pages(self, path: str) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            response = await self._request("GET", path, params=params, headers=self._auth())
            self._raise_unexpected(response, "listing images")
            page = response.json()
            for item in page["items"]:
                yield item
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def download(self, image: dict[str, Any], dest: Path) -> str:
        """Stream the original to `dest` (through a temp file); returns its sha256."""
        # The path of the direct link, asked of --server: API_BASE_URL may name a
        # public address (a proxy) this machine does not use.
        path = urlsplit(str(image["url"])).path or f"{API}/images/{image['id']}/file"
        partial = dest.with_name(dest.name + ".part")
        digest = hashlib.sha256()
        try:
            async with self._http.stream("GET", path, headers=self._auth()) as response:
                if response.status_code == 404:
                    raise Gone(f"image {image['id']} was deleted meanwhile")
                if response.status_code != 200:
                    await response.aread()
                    self._raise_unexpected(response, f"downloading image {image['id']}")
                async with await anyio.open_file(partial, "wb") as out:
                    async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                        digest.update(chunk)
                        await out.write(chunk)
        except httpx.TransportError as exc:
            raise TransferError(
                f"cannot reach the server at {self.server} ({_transport_reason(exc)})"
            ) from None
        await anyio.Path(partial).rename(dest)
        return digest.hexdigest()
