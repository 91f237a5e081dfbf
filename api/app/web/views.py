"""What the templates show about an image, derived from the API's `ImageRead`."""

from __future__ import annotations

import html
from dataclasses import dataclass

from app.images.schemas import ImageRead
from app.imaging.thumbnails import thumbnail_size

ALT_IN_GRID = 150


def alt_text(image: ImageRead) -> str:
    """The description doubles as alt text; the title stands in when there is none."""
    return image.description or image.title


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


def markdown_link(image: ImageRead) -> str:
    label = image.title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{label}]({image.url})"


def html_snippet(image: ImageRead) -> str:
    alt = html.escape(_shorten(alt_text(image), 500), quote=True)
    return f'<img src="{image.url}" alt="{alt}" width="{image.width}" height="{image.height}">'


@dataclass(frozen=True)
class Card:
    """One tile of the grid: a still thumbnail; the original when it is animated."""

    id: str
    title: str
    alt: str
    thumb_width: int
    thumb_height: int
    file_path: str
    animated: bool

    @classmethod
    def of(cls, image: ImageRead) -> Card:
        width, height = thumbnail_size(image.width, image.height)
        return cls(
            id=image.id,
            title=image.title,
            alt=_shorten(alt_text(image), ALT_IN_GRID),
            thumb_width=width,
            thumb_height=height,
            file_path=f"/f/{image.id}.{image.url.rsplit('.', 1)[-1]}",
            animated=image.frame_count > 1,
        )


@dataclass(frozen=True)
class Detail:
    image: ImageRead
    page_url: str
    file_path: str
    alt: str
    size: str
    markdown: str
    html: str
    download_name: str

    @classmethod
    def of(cls, image: ImageRead, base_url: str) -> Detail:
        extension = image.url.rsplit(".", 1)[-1]
        safe_name = "".join(c if c.isalnum() or c in " -_" else "_" for c in image.title)
        return cls(
            image=image,
            page_url=f"{base_url}/i/{image.id}",
            file_path=f"/f/{image.id}.{extension}",
            alt=alt_text(image),
            size=human_size(image.size_bytes),
            markdown=markdown_link(image),
            html=html_snippet(image),
            download_name=f"{safe_name.strip()[:80] or image.id}.{extension}",
        )
