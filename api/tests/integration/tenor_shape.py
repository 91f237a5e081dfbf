"""Tenor v2's documented response shapes, checked field by field, for the tenor tests."""

from __future__ import annotations

from typing import Any

import httpx

PREFIXES = ("/v2", "/tenor/v2", "/klipy/v2", "/proxy/klipy/api/v2")
RESULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "title": str,
    "content_description": str,
    "created": float,
    "itemurl": str,
    "url": str,
    "tags": list,
    "flags": list,
    "hasaudio": bool,
    "hascaption": bool,
    "media_formats": dict,
}


def assert_media_format(media: Any) -> None:
    assert set(media) == {"url", "dims", "duration", "preview", "size"}, media
    assert isinstance(media["url"], str)
    assert media["url"].startswith("http")
    assert isinstance(media["preview"], str)
    assert media["preview"].startswith("http")
    dims = media["dims"]
    assert isinstance(dims, list)
    assert len(dims) == 2
    assert all(type(side) is int and side > 0 for side in dims), dims
    assert type(media["size"]) is int
    assert media["size"] > 0
    assert isinstance(media["duration"], float)
    assert media["duration"] >= 0


def assert_result(result: Any) -> None:
    assert set(result) == set(RESULT_FIELDS), set(result) ^ set(RESULT_FIELDS)
    for name, kind in RESULT_FIELDS.items():
        assert isinstance(result[name], kind), (name, result[name])
    assert all(isinstance(tag, str) for tag in result["tags"])
    assert all(isinstance(flag, str) for flag in result["flags"])
    for media in result["media_formats"].values():
        assert_media_format(media)


def assert_results_page(body: Any) -> list[dict[str, Any]]:
    assert set(body) == {"results", "next"}, body
    assert isinstance(body["next"], str)
    assert isinstance(body["results"], list)
    for result in body["results"]:
        assert_result(result)
    results: list[dict[str, Any]] = body["results"]
    return results


def assert_google_error(response: httpx.Response, code: int, status: str) -> None:
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["details"] == []


def assert_api_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=60"


async def add_renditions(
    state: Any, image_id: str, width: int, height: int, formats: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Rendition rows and small objects, as the worker would leave them; format -> size.

    Made here rather than by the encoder so these tests do not depend on it.
    """
    from app.renditions.formats import FORMATS, rendition_key
    from app.renditions.models import Rendition

    mime_of = {"preview": "image/webp", "webp": "image/webp", "mp4": "video/mp4"}
    sizes = {}
    rows = []
    for index, fmt in enumerate(formats or FORMATS):
        mime = mime_of.get(fmt) or (
            "video/mp4" if fmt.endswith("mp4") else "video/webm" if "webm" in fmt else "image/gif"
        )
        data = f"{fmt}-{image_id}".encode() * (index + 2)
        key = rendition_key(image_id, fmt, mime)
        await state.storage.put_bytes(key, data, mime)
        scale = 0.5 if fmt.startswith("tiny") else 0.25 if fmt.startswith("nano") else 1.0
        rows.append(
            Rendition(
                image_id=image_id,
                format=fmt,
                key=key,
                mime_type=mime,
                width=max(2, int(width * scale)),
                height=max(2, int(height * scale)),
                duration=0.0 if fmt == "preview" else 0.3,
                size_bytes=len(data),
            )
        )
        sizes[fmt] = len(data)
    async with state.sessionmaker() as session:
        session.add_all(rows)
        await session.commit()
    return sizes
