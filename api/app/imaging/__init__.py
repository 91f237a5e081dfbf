"""Image inspection for uploads: a pure, synchronous library on top of Pillow.

`probe.probe_image` identifies a file from its bytes and proves it decodes
within limits; `thumbnails.make_thumbnail` renders the WebP preview. Both are
CPU-bound (a hostile file can take seconds): call them from a worker thread,
never on the event loop. Failures are `errors.ImagingError` subclasses whose
`.message` is safe to show a user.
"""
