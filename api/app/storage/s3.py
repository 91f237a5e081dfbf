"""S3-compatible storage (AWS S3, MinIO, SeaweedFS, R2) through aiobotocore via aioboto3."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import ObjectInfo, ObjectNotFound, StorageError, StoredObject

CHUNK_SIZE = 64 * 1024
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES


class S3Storage:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        region: str,
        timeout: float,
    ) -> None:
        self.bucket = bucket
        self.timeout = timeout
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._endpoint_url = endpoint_url
        self._config = Config(
            # SigV4 and path-style addressing work on AWS, MinIO and SeaweedFS alike.
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            retries={"max_attempts": 2, "mode": "standard"},
            # Trailing checksums (aws-chunked) are not understood by every
            # S3-compatible server; compute them only where the API demands it.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=50,
        )
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def open(self) -> S3Storage:
        self._client = await self._stack.enter_async_context(
            self._session.client("s3", endpoint_url=self._endpoint_url, config=self._config)
        )
        return self

    async def close(self) -> None:
        await self._stack.aclose()

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await getattr(self._client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectNotFound(kwargs.get("Key", "")) from exc
            raise StorageError(f"S3 {method} failed: {exc}") from exc
        except (BotoCoreError, OSError, TimeoutError) as exc:
            raise StorageError(f"S3 {method} failed: {type(exc).__name__}") from exc

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        # A file object streams to the server in chunks; the upload is never in memory whole.
        with path.open("rb") as body:
            await self._call("put_object", Key=key, Body=body, ContentType=content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await self._call("put_object", Key=key, Body=data, ContentType=content_type)

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> StoredObject:
        kwargs: dict[str, Any] = {"Key": key}
        if byte_range is not None:
            kwargs["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await self._call("get_object", **kwargs)
        body = response["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk
            except (BotoCoreError, OSError, TimeoutError) as exc:
                raise StorageError(f"S3 read failed: {type(exc).__name__}") from exc
            finally:
                body.close()

        async def close() -> None:
            body.close()

        return StoredObject(body=chunks(), size=int(response["ContentLength"]), close=close)

    async def head(self, key: str) -> ObjectInfo:
        response = await self._call("head_object", Key=key)
        return ObjectInfo(
            key=key, size=int(response["ContentLength"]), last_modified=response["LastModified"]
        )

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Key=key)

    async def list(self, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Prefix": prefix, "MaxKeys": 1000}
            if token:
                kwargs["ContinuationToken"] = token
            page = await self._call("list_objects_v2", **kwargs)
            for item in page.get("Contents", []):
                yield ObjectInfo(
                    key=item["Key"], size=int(item["Size"]), last_modified=item["LastModified"]
                )
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    async def ping(self) -> None:
        try:
            await self._call("head_bucket")
        except ObjectNotFound as exc:
            raise StorageError(f"S3 bucket {self.bucket!r} does not exist") from exc
