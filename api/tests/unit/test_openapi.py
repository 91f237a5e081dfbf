"""The OpenAPI document states what the server answers (issue 15); the contract test
(tests/e2e/test_contract.py) checks the answers against it, these check the document."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.error_handlers import validation_sentence
from app.openapi import ErrorDetail, file_responses, responses


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from app.main import create_app

    settings = Settings(
        database_url="postgresql+asyncpg://u:p@127.0.0.1:1/db",
        jwt_secret_key="k" * 40,
        owner_password="a-password-for-this-test",
        data_dir=tmp_path_factory.mktemp("data"),
    )
    app: FastAPI = create_app(settings)
    return app.openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_no_route_documents_fastapis_list_shaped_validation_error(
    document: dict[str, Any],
) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        for status, answer in operation["responses"].items():
            for content in answer.get("content", {}).values():
                reference = content.get("schema", {}).get("$ref", "")
                assert "ValidationError" not in reference, (method, path, status)


def test_every_error_has_a_body_schema(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        google = path.startswith("/v2/")
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = answer["content"]["application/json"]["schema"]["$ref"]
            expected = (
                # Problem: the chat apps' `{"detail"}` (app/integrations/schemas.py)
                ("GoogleError",)
                if google
                else ("ErrorDetail", "DuplicateDetail", "Readiness", "Problem")
            )
            assert schema.rsplit("/", 1)[1] in expected, (method, path, status)


@pytest.mark.parametrize(
    ("path", "types"),
    [
        ("/f/{filename}", {"image/gif", "image/png", "image/jpeg", "image/webp"}),
        ("/api/v1/images/{image_id}/thumbnail", {"image/webp"}),
        ("/f/{image_id}/{filename}", {"image/jpeg", "image/gif", "video/mp4", "video/webm"}),
    ],
)
def test_file_routes_answer_bytes_of_their_types(
    document: dict[str, Any], path: str, types: set[str]
) -> None:
    answers = document["paths"][path]["get"]["responses"]
    for status in ("200", "206"):
        content = answers[status]["content"]
        assert types <= set(content)
        assert "application/json" not in content
        assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values())
    assert "content" not in answers["304"]
    assert {"404", "416", "503"} <= set(answers)


def test_tenor_parameters_are_documented_as_parsed(document: dict[str, Any]) -> None:
    def params(path: str) -> dict[str, dict[str, Any]]:
        found = document["paths"][path]["get"]["parameters"]
        return {p["name"]: p for p in found}

    search = params("/v2/search")
    assert search["limit"]["schema"]["anyOf"][0] == {"type": "integer"}
    assert search["q"]["schema"]["maxLength"] == 500
    assert set(search["ar_range"]["schema"]["enum"]) >= {"all", "wide", "standard"}
    assert search["key"]["required"] is False
    assert params("/v2/posts")["ids"]["required"] is True
    assert params("/v2/registershare")["id"]["required"] is True


def test_the_upload_body_is_multipart_with_a_binary_file(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/images"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"]["format"] == "binary"
    kinds = [option["type"] for option in schema["properties"]["tags"]["anyOf"]]
    assert kinds == ["string", "array"]


def test_the_responses_helper_declares_error_detail_and_headers() -> None:
    declared = responses(401, 404, descriptions={404: "No image with that id"})
    assert declared[401]["model"] is ErrorDetail
    assert "WWW-Authenticate" in declared[401]["headers"]
    assert declared[404]["description"] == "No image with that id"
    assert set(file_responses("image/png")) == {200, 206, 304, 404, 416, 503}


def test_validation_errors_read_as_one_sentence() -> None:
    sentence = validation_sentence(
        [
            {"loc": ("query", "limit"), "msg": "Input should be less than or equal to 100"},
            {"loc": ("body", "title"), "msg": "Value error, title must not be empty."},
        ]
    )
    assert sentence == (
        "limit: Input should be less than or equal to 100; title: title must not be empty."
    )
