"""Logs: JSON lines for machines, readable lines in a terminal, a request id on every
line of a request, and never a secret."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from starlette.types import Message, Receive, Scope, Send

from app.logging import REDACTED, RequestIdMiddleware, configure_logging


def fresh_logger() -> structlog.types.FilteringBoundLogger:
    # Loggers cache their configuration on first use: each test gets its own.
    logger: structlog.types.FilteringBoundLogger = structlog.get_logger("test")
    return logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.contextvars.clear_contextvars()
    configure_logging("info", "json")


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_format_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    log = fresh_logger()
    log.info("image.uploaded", image_id="abc", bytes=12)
    (line,) = _lines(capsys.readouterr().err)
    assert line["event"] == "image.uploaded"
    assert line["image_id"] == "abc"
    assert line["level"] == "info"
    assert str(line["timestamp"]).endswith("Z")


def test_console_format_is_readable_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "console")
    log = fresh_logger()
    log.info("image.uploaded", image_id="abc")
    err = capsys.readouterr().err
    assert "image.uploaded" in err
    assert "image_id" in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.splitlines()[0])


def test_auto_format_is_json_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "auto")  # pytest's captured stderr is not a terminal
    log = fresh_logger()
    log.info("app.started")
    assert _lines(capsys.readouterr().err)[0]["event"] == "app.started"


def test_level_filters_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("warning", "json")
    log = fresh_logger()
    log.info("quiet")
    log.warning("loud")
    assert [line["event"] for line in _lines(capsys.readouterr().err)] == ["loud"]


def test_secrets_are_redacted_whatever_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    log = fresh_logger()
    log.info(
        "oops",
        password="hunter2-password",
        access_token="eyJ.secret.token",
        Authorization="Bearer abc",
        jwt_secret_key="k" * 40,
        csrf="csrf-value",
        image_id="kept",
    )
    err = capsys.readouterr().err
    for secret in ("hunter2-password", "eyJ.secret.token", "Bearer abc", "k" * 40, "csrf-value"):
        assert secret not in err
    (line,) = _lines(err)
    assert line["password"] == REDACTED
    assert line["image_id"] == "kept"


async def _call(app: RequestIdMiddleware, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    await app(scope, receive, send)
    return sent


async def _endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    log = fresh_logger()
    log.info("handler.first")
    await asyncio.sleep(0)
    log.info("handler.second")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _response_id(sent: list[Message]) -> str:
    return dict(sent[0]["headers"])[b"x-request-id"].decode()


async def test_every_line_of_a_request_carries_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    app = RequestIdMiddleware(_endpoint)
    sent = await _call(app, [(b"x-request-id", b"trace-42")])
    assert _response_id(sent) == "trace-42"
    lines = _lines(capsys.readouterr().err)
    assert [line["event"] for line in lines] == ["handler.first", "handler.second"]
    assert {line["request_id"] for line in lines} == {"trace-42"}


async def test_concurrent_requests_keep_their_own_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    app = RequestIdMiddleware(_endpoint)
    await asyncio.gather(*(_call(app, [(b"x-request-id", f"r{i}".encode())]) for i in range(5)))
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 10
    for index in range(5):
        mine = [line for line in lines if line["request_id"] == f"r{index}"]
        assert [line["event"] for line in mine] == ["handler.first", "handler.second"]


@pytest.mark.parametrize(
    "given", [b"", b"x" * 129, b"bad\x01id", b"line\nbreak"], ids=["empty", "long", "ctl", "nl"]
)
async def test_an_unusable_request_id_is_replaced(given: bytes) -> None:
    sent = await _call(RequestIdMiddleware(_endpoint), [(b"x-request-id", given)])
    made = _response_id(sent)
    assert made != given.decode("latin-1")
    assert len(made) == 32
    assert made.isalnum()


def test_library_warnings_are_rendered_like_ours(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn, procrastinate and botocore log through the standard library: JSON too."""
    configure_logging("info", "json")
    structlog.contextvars.bind_contextvars(request_id="lib-1")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("botocore.credentials").info("Found credentials")  # below WARNING
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")
    lines = _lines(capsys.readouterr().err)
    assert [line["event"] for line in lines] == [
        "Invalid HTTP request received.",
        "Task exception was never retrieved",
    ]
    assert lines[0]["logger"] == "uvicorn.error"
    assert lines[0]["level"] == "warning"
    assert lines[0]["request_id"] == "lib-1"
    assert "RuntimeError: boom" in str(lines[1]["exception"])


def test_configuring_twice_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    configure_logging("info", "json")
    logging.getLogger("uvicorn.error").warning("once")
    assert len(_lines(capsys.readouterr().err)) == 1
