"""Byte-level metadata strippers for the four container formats: bytes in, bytes out.

Each walks its container's own framing and copies only the parts a browser
needs to render the picture (policy and reasons in `sanitize`). Pixel data is
copied untouched, so the output decodes to exactly the same pixels. Anything
the walker cannot frame raises `InvalidImage`. Each is idempotent: its output
contains only parts it keeps, in the order it found them.
"""

from __future__ import annotations

import re
import struct

from app.imaging.errors import InvalidImage


def _broken(kind: str) -> InvalidImage:
    return InvalidImage(f"The {kind} file's structure is damaged; it cannot be cleaned.")


# --- JPEG --------------------------------------------------------------------------------

_SOS, _EOI = 0xDA, 0xD9
# Frame, tables, restart interval, scans: what the decoder reads. JPG/JPGn (0xC8,
# 0xF0-0xFD) are reserved and never needed.
_JPEG_CODING = {*range(0xC0, 0xC8), *range(0xC9, 0xD0), 0xDB, 0xDC, 0xDD, 0xDF, _SOS}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length
_JFIF_HEADER = 14  # identifier(5) version(2) units(1) density(4) thumbnail size(2)


def _jpeg_segment(marker: int, payload: bytes) -> bytes | None:
    """The segment to write for `marker`, or None to drop it."""
    if marker in _JPEG_CODING:
        kept = payload
    elif marker == 0xE0 and payload.startswith(b"JFIF\0") and len(payload) >= _JFIF_HEADER:
        # Keep density, drop the embedded thumbnail: it can show an uncropped original.
        kept = payload[: _JFIF_HEADER - 2] + b"\0\0"
    elif marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0"):
        kept = payload  # colour profile: without it colours shift
    elif marker == 0xEE and payload.startswith(b"Adobe"):
        kept = payload  # tells decoders how CMYK/YCCK is stored: without it colours invert
    else:
        return None  # APP1 EXIF/XMP, other APPn (IPTC, MPF, FlashPix...), COM
    return bytes((0xFF, marker)) + struct.pack(">H", len(kept) + 2) + kept


def _jpeg_scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data starting at `pos` ends: at the next real marker.

    The end of the file when there is none: libjpeg decodes a file that lacks
    its EOI, so `strip_jpeg` supplies it rather than refusing the upload.
    """
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or following in _JPEG_STANDALONE:
            pos += 2  # stuffed 0xFF byte or restart marker: still scan data
        elif following == 0xFF:
            pos += 1  # fill byte before a marker
        else:
            return pos


def strip_jpeg(data: bytes) -> bytes:
    """SOI, the kept segments and scans, EOI; nothing after EOI (polyglot payloads, MPO images)."""
    out, pos = [b"\xff\xd8"], 2
    while True:
        if pos < len(data) and data[pos] != 0xFF:
            # Junk between segments: libjpeg and Pillow skip to the next 0xFF, and so do we.
            pos = data.find(b"\xff", pos)
            if pos < 0:
                raise _broken("JPEG")
            continue
        if pos + 2 > len(data):
            raise _broken("JPEG")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1  # fill byte
            continue
        if marker == _EOI:
            return b"".join([*out, b"\xff\xd9"])
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if pos + 4 > len(data):
            raise _broken("JPEG")
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise _broken("JPEG")
        if (segment := _jpeg_segment(marker, data[pos + 4 : end])) is not None:
            out.append(segment)
        pos = end
        if marker == _SOS:
            pos, scan_start = _jpeg_scan_end(data, pos), pos
            out.append(data[scan_start:pos])
            if pos == len(data):
                return b"".join([*out, b"\xff\xd9"])  # the EOI was missing


# --- PNG ---------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\0\0\0\0IEND\xaeB`\x82"
_PNG_KEPT = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND",  # critical
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP", b"mDCV", b"cLLI",  # colour
    b"pHYs", b"bKGD",  # pixel aspect, background
    b"acTL", b"fcTL", b"fdAT",  # APNG
}  # fmt: skip


def strip_png(data: bytes) -> bytes:
    """The signature and kept chunks up to IEND; text, eXIf, tIME, private chunks dropped.

    Bytes after the last whole chunk are dropped and IEND is supplied when missing:
    browsers and Pillow show such files, and `sanitize` re-probes the result anyway.
    """
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            break
        if kind in _PNG_KEPT:
            out.append(data[pos:end])  # CRC included: these bytes are unchanged
        if kind == b"IEND":
            return b"".join(out)
        pos = end
    return b"".join([*out, _PNG_IEND])


# --- WebP --------------------------------------------------------------------------------

_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04
_WEBP_KEPT = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}
_ANMF_HEADER = 16  # position, size, duration, flags


def _riff_chunks(data: bytes, pos: int, end: int) -> list[tuple[bytes, bytes]]:
    chunks: list[tuple[bytes, bytes]] = []
    while pos + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        stop = pos + 8 + length
        if stop > end:
            raise _broken("WebP")
        chunks.append((kind, data[pos + 8 : stop]))
        pos = stop + (length & 1)  # chunks are padded to an even length
    return chunks


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


def _webp_chunk(kind: bytes, payload: bytes) -> bytes:
    if kind == b"VP8X" and payload:
        payload = bytes((payload[0] & ~(_VP8X_EXIF | _VP8X_XMP),)) + payload[1:]
    elif kind == b"ANMF":
        frame = _riff_chunks(payload, _ANMF_HEADER, len(payload))
        kept = (_riff_chunk(k, p) for k, p in frame if k in _WEBP_KEPT)
        payload = payload[:_ANMF_HEADER] + b"".join(kept)
    return _riff_chunk(kind, payload)


def strip_webp(data: bytes) -> bytes:
    """Image, alpha, animation and ICC chunks; EXIF, XMP, unknown chunks, trailing bytes dropped."""
    if len(data) < 12:
        raise _broken("WebP")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = min(len(data), 8 + riff_size)
    chunks = _riff_chunks(data, 12, end)
    body = b"".join(_webp_chunk(k, p) for k, p in chunks if k in _WEBP_KEPT)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


# --- GIF ---------------------------------------------------------------------------------

_GIF_LOOPING = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_GIF_BLOCK_START = re.compile(rb"[!,;]")  # extension, image, trailer


def _gif_sub_blocks_end(data: bytes, pos: int) -> int:
    """Index just past the data sub-blocks starting at `pos` (and their 0 terminator)."""
    # One iteration per 255-byte sub-block (4,000 in a 1 MB GIF): kept minimal.
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if not size:
            return pos
    raise _broken("GIF")


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


def _gif_extension(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """(the extension to write or None, where the next block starts); `pos` is at 0x21.

    An extension cut off by the end of the file is dropped, like the rest of a
    missing tail: the frames before it are whole, and that is what Pillow shows.
    """
    try:
        end = _gif_sub_blocks_end(data, pos + 2)
    except InvalidImage:
        return None, len(data)
    label, block = data[pos + 1], data[pos:end]
    if label == 0xF9:
        return block, end  # graphic control: delay, disposal, transparency
    if label == 0xFF and data[pos + 3 : pos + 14] in _GIF_LOOPING:
        return block, end  # loop count
    return None, end  # comments, plain text, XMP, ICC and other application data


def _gif_image(data: bytes, pos: int) -> int:
    """Where the image starting at `pos` (at 0x2C) ends."""
    if pos + 10 > len(data):
        raise _broken("GIF")
    pos += 10 + _colour_table_size(data[pos + 9])
    return _gif_sub_blocks_end(data, pos + 1)  # +1: the LZW minimum code size


def strip_gif(data: bytes) -> bytes:
    """Header, colour tables, images, graphic control and loop blocks, then one trailer."""
    if len(data) < 13:
        raise _broken("GIF")
    pos = 13 + _colour_table_size(data[10])
    if pos > len(data):
        raise _broken("GIF")
    out = [data[:pos]]
    while pos < len(data) and data[pos] != 0x3B:
        if data[pos] == 0x21:
            block, pos = _gif_extension(data, pos)
            if block is not None:
                out.append(block)
        elif data[pos] == 0x2C:
            start, pos = pos, _gif_image(data, pos)
            out.append(data[start:pos])
        else:
            # Stray bytes between blocks: Pillow skips them, so the frames it counted
            # are the ones we keep. (Browsers stop there; the cleaned file has no junk.)
            found = _GIF_BLOCK_START.search(data, pos)
            pos = found.start() if found else len(data)
    # Writing the trailer even when the source had none keeps a second pass identical.
    return b"".join([*out, b";"])
