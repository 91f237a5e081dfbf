"""Tenor v2's response objects, field for field (what GIF pickers parse)."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, Field

# The result pages (search, featured, posts) are built as plain dictionaries and
# serialised once: validating hundreds of small models per page cost more than
# the search itself. The models below describe the same shape for /docs.


class MediaFormatData(TypedDict):
    url: str
    dims: list[int]
    duration: float
    preview: str
    size: int


class ResultData(TypedDict):
    id: str
    title: str
    content_description: str
    created: float
    itemurl: str
    url: str
    tags: list[str]
    flags: list[str]
    hasaudio: bool
    hascaption: bool
    media_formats: dict[str, MediaFormatData]


class ResultsPageData(TypedDict):
    results: list[ResultData]
    next: str


class MediaFormat(BaseModel):
    url: str
    dims: list[int] = Field(description="[width, height] in pixels.")
    duration: float = Field(description="Seconds; 0 for a still.")
    preview: str = Field(description="A still of the first frame.")
    size: int = Field(description="Bytes.")


class Result(BaseModel):
    id: str
    title: str
    content_description: str
    created: float = Field(description="Seconds since the epoch.")
    itemurl: str
    url: str
    tags: list[str]
    flags: list[str]
    hasaudio: bool
    hascaption: bool
    media_formats: dict[str, MediaFormat]


class ResultsPage(BaseModel):
    results: list[Result]
    next: str = Field(description='Pass as `pos` for the next page; "" at the end.')


class Category(BaseModel):
    searchterm: str
    path: str
    image: str
    name: str


class CategoriesPage(BaseModel):
    tags: list[Category]


class TermsPage(BaseModel):
    results: list[str]


class Empty(BaseModel):
    pass


class GoogleErrorBody(BaseModel):
    code: int
    message: str
    status: str
    details: list[dict[str, str]]


class GoogleError(BaseModel):
    error: GoogleErrorBody
