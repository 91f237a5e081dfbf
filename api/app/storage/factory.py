"""Build the configured storage backend once, at start-up."""

from __future__ import annotations

from app.config import Settings, SettingsError
from app.storage.base import Storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage


async def open_storage(settings: Settings) -> Storage:
    if settings.resolved_storage_backend == "local":
        return await LocalStorage(settings.data_dir / "objects").open()
    if settings.s3_bucket_name is None:  # Settings refuses this already
        raise SettingsError("S3_BUCKET_NAME must be set when STORAGE_BACKEND is s3")
    secret = settings.s3_secret_access_key
    return await S3Storage(
        bucket=settings.s3_bucket_name,
        endpoint_url=settings.s3_endpoint_url,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        region=settings.s3_region,
        timeout=settings.storage_timeout_seconds,
    ).open()
