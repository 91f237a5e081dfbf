"""Image inspection for uploads: a pure, synchronous library on top of Pillow.

- `probe.probe_image` identifies a file from its bytes and proves it decodes
  within `ImageLimits`;
- `sanitize.sanitize` writes the copy reactbin serves: no EXIF/GPS, comments or
  trailing payloads, same pixels and frames (byte walkers in `chunks`);
- `thumbnails.make_thumbnail` renders the WebP preview;
- `orientation` decides, for all three, how EXIF orientation is honoured.

All are CPU-bound (a hostile file can take seconds): call them from a worker
thread, never on the event loop. Failures are `errors.ImagingError` subclasses
whose `.message` is safe to show a user.
"""
