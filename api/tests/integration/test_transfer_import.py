"""`reactbin import` engine against the real app (in-process): folders, tags,
duplicates, refusals, resuming, and the one-line errors."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.transfer.client import Credentials, ReactbinClient, TransferError
from app.transfer.importer import import_items
from app.transfer.journal import Journal
from app.transfer.sources import collect, title_from_name
from tests.integration.helpers import State, png_bytes
from tests.integration.transfer_helpers import CountingTransport, distinct_gif, owner_client, write

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


async def _all_images(client: httpx.AsyncClient) -> list[dict]:
    return (await client.get("/api/v1/images", params={"limit": 100})).json()["items"]


def test_titles_from_file_names() -> None:
    assert title_from_name("this_is-fine.gif") == "this is fine"
    assert title_from_name("  __party--parrot__.webp") == "party parrot"
    assert title_from_name("___.gif") is None
    assert len(title_from_name("a" * 300 + ".gif") or "") == 200


async def test_folder_tree_titles_and_tags_from_sub_folders(
    app: FastAPI, settings: Settings, state: State, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    root = tmp_path / "reactions"
    write(root / "this_is-fine.gif", distinct_gif(1))
    write(root / "Dogs" / "good_boy.png", png_bytes(2))
    write(root / "Dogs" / "happy dance" / "wiggle.GIF", distinct_gif(3))
    write(root / "notes.txt", b"not an image")
    write(root / ".hidden" / "secret.gif", distinct_gif(4))

    collected = collect([root], extra_tags=["imported"])
    assert [p.name for p in collected.ignored] == ["notes.txt"]
    async with owner_client(app, settings) as api:
        await api.authenticate()
        summary = await import_items(api, collected.items, jobs=3)

    assert (summary.created, summary.duplicates, summary.refused) == (3, 0, [])
    images = {image["title"]: image for image in await _all_images(client)}
    assert set(images) == {"this is fine", "good boy", "wiggle"}
    assert images["this is fine"]["tags"] == ["imported"]
    assert images["good boy"]["tags"] == ["dogs", "imported"]
    assert images["wiggle"]["tags"] == ["dogs", "happy dance", "imported"]


async def test_duplicates_are_counted_and_identical_files_not_sent(
    app: FastAPI,
    settings: Settings,
    state: State,
    authed_client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    # Already in the library: one file byte for byte, one whose stored copy was
    # cleaned of its metadata (so only the server can tell it is the same image).
    same = png_bytes(10)
    with_metadata = (SAMPLES / "metadata.png").read_bytes()
    for name, data in (("same.png", same), ("metadata.png", with_metadata)):
        response = await authed_client.post("/api/v1/images", files={"file": (name, data)})
        assert response.status_code == 201, response.text
    assert response.json()["sha256"] != hashlib.sha256(with_metadata).hexdigest()

    folder = tmp_path / "in"
    write(folder / "copy of same.png", same)
    write(folder / "copy of metadata.png", with_metadata)
    write(folder / "new.gif", distinct_gif(11))
    transport = CountingTransport(app)
    async with owner_client(app, settings, transport) as api:
        await api.authenticate()
        summary = await import_items(api, collect([folder]).items)

    assert summary.created == 1
    assert summary.duplicates == 1  # the server's 409
    assert summary.skipped == 1  # same sha256 as a stored image: never sent
    assert transport.uploads == 2
    assert await state.row_count() == 3


async def test_refused_files_are_reported_and_the_run_goes_on(
    app: FastAPI, settings: Settings, state: State, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    write(folder / "a_good.gif", distinct_gif(20))
    write(folder / "pretends.gif", (SAMPLES / "hostile" / "image.svg").read_bytes())
    write(folder / "bomb.png", (SAMPLES / "hostile" / "declares_20000x20000.png").read_bytes())
    write(folder / "z_good.png", png_bytes(21))
    async with owner_client(app, settings) as api:
        await api.authenticate()
        summary = await import_items(api, collect([folder]).items, jobs=2)

    assert summary.created == 2
    refused = {Path(p.label).name: p for p in summary.refused}
    assert set(refused) == {"pretends.gif", "bomb.png"}
    assert refused["pretends.gif"].status == 415
    assert refused["bomb.png"].status == 422
    # The server's own sentence, not just a number.
    assert all(len(p.reason) > 10 and not p.reason.startswith("HTTP") for p in refused.values())
    assert summary.failed == []
    assert {i["title"] for i in await _all_images(client)} == {"a good", "z good"}
    assert await state.row_count() == 2  # nothing of the refused files was kept


async def test_a_resumed_run_sends_nothing_already_in(
    app: FastAPI, settings: Settings, state: State, authed_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    folder = tmp_path / "library"
    for index in range(5):
        write(folder / f"gif {index}.gif", distinct_gif(30 + index))
    write(folder / "cleaned on upload.png", (SAMPLES / "metadata.png").read_bytes())
    journal_path = tmp_path / "state" / "journal.jsonl"

    # An interrupted first run: only three files made it.
    items = collect([folder]).items
    async with owner_client(app, settings) as api:
        await api.authenticate()
        with Journal(journal_path).load() as journal:
            first = await import_items(api, items[:3], journal=journal, jobs=2)
    assert first.created == 3

    transport = CountingTransport(app)
    async with owner_client(app, settings, transport) as api:
        await api.authenticate()
        with Journal(journal_path).load() as journal:
            second = await import_items(api, collect([folder]).items, journal=journal)
    assert (second.created, second.skipped, second.duplicates) == (3, 3, 0)
    assert transport.uploads == 3

    # A third run sends nothing at all, even the file the server stored cleaned
    # (its local sha256 is not on the server: the journal remembers it).
    transport = CountingTransport(app)
    async with owner_client(app, settings, transport) as api:
        await api.authenticate()
        with Journal(journal_path).load() as journal:
            third = await import_items(api, collect([folder]).items, journal=journal)
    assert (third.created, third.skipped) == (0, 6)
    assert transport.uploads == 0

    # After the image is deleted on the server, the journal no longer hides it.
    victim = next(i for i in (await authed_client.get("/api/v1/images")).json()["items"])
    assert (await authed_client.delete(f"/api/v1/images/{victim['id']}")).status_code == 204
    async with owner_client(app, settings) as api:
        await api.authenticate()
        with Journal(journal_path).load() as journal:
            fourth = await import_items(api, collect([folder]).items, journal=journal)
    assert (fourth.created, fourth.skipped) == (1, 5)
    assert await state.row_count() == 6


class _NotFoundPages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def gifable_like() -> Iterator[str]:
    """Any other web server: 404 pages in HTML."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFoundPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_wrong_password_is_one_clear_error(app: FastAPI, state: State) -> None:
    credentials = Credentials(username="owner", password="not-the-password")
    async with ReactbinClient(
        "http://testserver", credentials, transport=httpx.ASGITransport(app=app)
    ) as api:
        with pytest.raises(TransferError, match="wrong username or password"):
            await api.authenticate()


async def test_bad_token_is_one_clear_error(app: FastAPI, state: State) -> None:
    async with ReactbinClient(
        "http://testserver", Credentials(token="nope"), transport=httpx.ASGITransport(app=app)
    ) as api:
        with pytest.raises(TransferError, match="refused the token"):
            await api.authenticate()


async def test_unreachable_server_is_one_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    async with ReactbinClient(f"http://127.0.0.1:{port}", Credentials(token="t")) as api:
        with pytest.raises(TransferError, match="cannot reach the server"):
            await api.authenticate()


async def test_a_token_revoked_mid_run_stops_the_run(
    app: FastAPI, settings: Settings, state: State, authed_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    write(tmp_path / "a.gif", distinct_gif(900))
    token = authed_client.headers["Authorization"].removeprefix("Bearer ")
    async with ReactbinClient(
        "http://testserver", Credentials(token=token), transport=httpx.ASGITransport(app=app)
    ) as api:
        await api.authenticate()
        # "Sign out everywhere" between the check and the upload.
        assert (await authed_client.post("/api/v1/auth/logout")).status_code == 204
        with pytest.raises(TransferError, match="stopped accepting the token"):
            await import_items(api, collect([tmp_path]).items)
    await state.assert_nothing_stored()


async def test_a_server_that_is_not_reactbin_is_one_clear_error(gifable_like: str) -> None:
    async with ReactbinClient(gifable_like, Credentials(token="t")) as api:
        with pytest.raises(TransferError, match="does not look like a reactbin server"):
            await api.authenticate()
