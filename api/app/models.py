"""Every model, imported once so Alembic and the mappers see the whole schema."""

from app.auth.models import OwnerTokenVersion
from app.images.models import Image, ImageTag
from app.images.trash.models import TrashedImage
from app.integrations.models import IntegrationRequest
from app.renditions.models import Rendition
from app.search.models import SearchWord
from app.tags.models import Tag

__all__ = [
    "Image",
    "ImageTag",
    "IntegrationRequest",
    "OwnerTokenVersion",
    "Rendition",
    "SearchWord",
    "Tag",
    "TrashedImage",
]
