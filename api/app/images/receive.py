"""Receive a multipart upload as a stream: the file goes to a temp file as it
arrives, hashed on the way, and the request is cut off as soon as it passes the
size cap. Nothing is ever held whole in memory.

Starlette's `request.form()` cannot do this: it spools to a temp file but only
applies a size limit to non-file fields, after reading them.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.config import Settings
from app.errors import BadRequest, ReactbinError, TooLarge, Unprocessable, UnsupportedMedia
from app.images.spool import TEMP_PREFIX, ReceivedUpload

MAX_FIELDS = 64
MAX_FIELD_BYTES = 64 * 1024
# Room for the boundaries, part headers and text fields around the file.
FORM_OVERHEAD_BYTES = 1024 * 1024
MAX_PART_HEADERS = 16
MAX_PART_HEADER_BYTES = 8 * 1024


class RequestTimeout(ReactbinError):
    status_code = 408


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _UploadParser:
    """Drives python-multipart's low-level parser and enforces every limit."""

    def __init__(self, boundary: bytes, max_file_bytes: int, tmp_dir: Path | None) -> None:
        self.max_file_bytes = max_file_bytes
        self.tmp_dir = tmp_dir
        self.result = ReceivedUpload()
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._file: IO[bytes] | None = None
        self._field_count = 0
        self._error: ReactbinError | None = None
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
            max_header_count=MAX_PART_HEADERS,
            max_header_size=MAX_PART_HEADER_BYTES,
        )

    def _fail(self, error: ReactbinError) -> None:
        # Raising inside a callback is swallowed by some parser paths; remember it
        # and raise from `feed`, where the caller sees it.
        if self._error is None:
            self._error = error

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_end(self) -> None:
        self._part.headers[bytes(self._header_field).lower().decode("latin-1")] = bytes(
            self._header_value
        )
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get("content-disposition", b""))
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        if raw_filename is None or self._part.name != "file":
            self._field_count += 1
            if self._field_count > MAX_FIELDS:
                self._fail(Unprocessable(f"Too many form fields (at most {MAX_FIELDS})."))
            return
        if self._file is not None or self.result.file_path is not None:
            self._fail(Unprocessable("Send exactly one file per upload."))
            return
        self._part.filename = raw_filename.decode("utf-8", "replace")
        fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.tmp_dir)
        self.result.file_path = Path(path)
        self._file = os.fdopen(fd, "wb")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._error is not None:
            return
        # A view, not a copy: the file's bytes go straight from the body chunk to the file.
        chunk = memoryview(data)[start:end]
        if self._file is not None and self._part.filename is not None:
            self.result.file_size += len(chunk)
            if self.result.file_size > self.max_file_bytes:
                self._fail(TooLarge(_too_large_message(self.max_file_bytes)))
                return
            self._file.write(chunk)
        elif self._part.filename is None:
            if len(self._part.data) + len(chunk) > MAX_FIELD_BYTES:
                self._fail(Unprocessable(f"Form field {self._part.name!r} is too long."))
                return
            self._part.data.extend(chunk)

    def _on_part_end(self) -> None:
        if self._part.filename is not None and self._file is not None:
            self._file.close()
            self._file = None
            self.result.filename = self._part.filename
        elif self._part.filename is None and self._part.name:
            try:
                value = self._part.data.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(Unprocessable(f"Form field {self._part.name!r} is not UTF-8."))
                return
            self.result.fields.setdefault(self._part.name, []).append(value)

    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except MultipartParseError as exc:
            self._fail(Unprocessable(f"Malformed multipart body: {exc}."))
        if self._error is not None:
            raise self._error

    def finish(self) -> ReceivedUpload:
        try:
            self.parser.finalize()
        except MultipartParseError:
            raise Unprocessable("Malformed multipart body.") from None
        if self._error is not None:
            raise self._error
        if self._file is not None:  # the body ended inside the file part
            raise Unprocessable("The upload ended before the file was complete.")
        return self.result

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.result.discard()


def _too_large_message(limit: int) -> str:
    return f"The file is larger than the upload limit of {limit} bytes."


async def _chunks_with_deadline(
    request: Request, idle_timeout: float, total_timeout: float
) -> AsyncIterator[bytes]:
    stream = request.stream().__aiter__()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + total_timeout
    while True:
        wait = min(idle_timeout, deadline - loop.time())
        try:
            async with asyncio.timeout(max(wait, 0)):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RequestTimeout("The upload was too slow and was cut off.") from None
        yield chunk


async def receive_upload(
    request: Request,
    *,
    max_file_bytes: int,
    tmp_dir: Path | None = None,
    idle_timeout: float = 30.0,
    total_timeout: float = 300.0,
) -> ReceivedUpload:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise UnsupportedMedia("Send the upload as multipart/form-data with a `file` field.")
    max_body = max_file_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # not "³"
            raise BadRequest("Invalid Content-Length header.")
        if int(declared) > max_body:
            # Refused before a single byte of the body is read.
            raise TooLarge(_too_large_message(max_file_bytes))

    parser = _UploadParser(options[b"boundary"], max_file_bytes, tmp_dir)
    received = 0
    try:
        async for chunk in _chunks_with_deadline(request, idle_timeout, total_timeout):
            received += len(chunk)
            if received > max_body:
                raise TooLarge(_too_large_message(max_file_bytes))
            # The spool file is written as the parser goes: in a worker thread.
            await anyio.to_thread.run_sync(parser.feed, chunk)
        return parser.finish()
    except ClientDisconnect:
        parser.abort()
        raise BadRequest("The client disconnected during the upload.") from None
    except BaseException:
        parser.abort()
        raise


async def receive_image_upload(request: Request, settings: Settings) -> ReceivedUpload:
    """`receive_upload` with the limits from the settings (API and web upload alike)."""
    return await receive_upload(
        request,
        max_file_bytes=settings.max_upload_bytes,
        tmp_dir=settings.upload_tmp_dir,
        idle_timeout=settings.upload_idle_timeout_seconds,
        total_timeout=settings.upload_total_timeout_seconds,
    )
