"""What an export manifest entry carries, and what a restore accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.ids import ALPHABET, ID_LENGTH
from app.images.schemas import Description, ImageRead, OcrText, Tags, Title

ID_PATTERN = f"^[{ALPHABET}]{{{ID_LENGTH}}}$"
SHA256_PATTERN = "^[0-9a-f]{64}$"
ImageId = Annotated[str, Field(pattern=ID_PATTERN, min_length=ID_LENGTH, max_length=ID_LENGTH)]
MAX_SHARES = 2**31 - 1
PHASH_MIN, PHASH_MAX = -(2**63), 2**63 - 1


class BackupImage(BaseModel):
    """An image with everything a restore needs to bring it back as it was."""

    id: str
    title: str
    description: str
    tags: list[str]
    ocr_text: str | None = Field(description="Recognised text, or the owner's correction of it.")
    sha256: str
    mime_type: str
    size_bytes: int
    width: int
    height: int
    share_count: int
    phash: int | None = Field(description="64-bit perceptual hash, as a signed integer.")
    created_at: datetime
    updated_at: datetime
    url: str


class BackupPage(BaseModel):
    items: list[BackupImage]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class RestoreEntry(BaseModel):
    """The form fields of `POST /api/v1/backup/images` (beside `file`)."""

    model_config = ConfigDict(extra="forbid")

    id: ImageId
    title: Title
    description: Description = ""
    tags: Tags = Field(default_factory=list)
    ocr_text: OcrText = None
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    share_count: Annotated[int, Field(ge=0, le=MAX_SHARES)] = 0
    phash: Annotated[int | None, Field(ge=PHASH_MIN, le=PHASH_MAX)] = None


class RestoreResult(BaseModel):
    status: Literal["restored", "unchanged"] = Field(
        description="restored: stored now; unchanged: the server already had these bytes "
        "under this id (running a restore twice changes nothing)."
    )
    image: ImageRead
