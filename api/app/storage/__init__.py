from app.storage.base import ObjectInfo, ObjectNotFound, Storage, StorageError, StoredObject

__all__ = ["ObjectInfo", "ObjectNotFound", "Storage", "StorageError", "StoredObject"]
