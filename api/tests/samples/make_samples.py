"""Write the image samples the imaging tests read: `python tests/samples/make_samples.py`.

Deterministic (fixed seeds, no timestamps), so re-running it rewrites the same
bytes with the pinned Pillow. Everything stays tiny; the hostile files that
declare huge images are a few hundred bytes of header. Expected values the
tests assert (sizes, frame counts, durations, colours) are the constants below.
"""

from __future__ import annotations

import io
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import ExifTags, Image, ImageCms

HERE = Path(__file__).resolve().parent

RED = (220, 20, 30)
GREEN = (20, 180, 40)
BLUE = (30, 40, 200)
YELLOW = (230, 210, 20)
GREY = (128, 128, 128)
MAGENTA = (200, 30, 200)

# Declared GIF delays; 10 ms and "no delay" both play for 100 ms in browsers: 570 ms in all.
GIF_DURATIONS = (100, 20, 10, 0, 250)
GIF_COLOURS = (RED, GREEN, BLUE, YELLOW, MAGENTA)
APNG_DURATIONS = (100, 50, 150)
WEBP_DURATIONS = (100, 200, 300)


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # test data, not secrets


def _noise(size: tuple[int, int], seed: int) -> Image.Image:
    data = _rng(seed).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def _solid(colour: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> Image.Image:
    im = Image.new("RGB", size, colour)
    # A white square that moves per colour keeps frames distinct for the GIF writer.
    offset = sum(colour) % (size[0] - 8)
    im.paste((255, 255, 255), (offset, 4, offset + 8, 12))
    return im


def _encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header(width: int, height: int, colour_type: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)


# --- images reactbin accepts -------------------------------------------------------------


def still_gif() -> bytes:
    return _encode(_solid(GREEN).convert("P"), "GIF")


def animated_gif() -> bytes:
    frames = [_solid(c).convert("P") for c in GIF_COLOURS]
    return _encode(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=GIF_DURATIONS, loop=0
    )


def still_png() -> bytes:
    return _encode(_solid(BLUE, (40, 30)), "PNG")


def animated_png() -> bytes:
    frames = [_solid(c, (40, 30)) for c in (RED, GREEN, BLUE)]
    return _encode(
        frames[0], "PNG", save_all=True, append_images=frames[1:], duration=APNG_DURATIONS
    )


def apng_with_fallback() -> bytes:
    """APNG whose IDAT image (grey) is only a fallback: browsers play red then blue."""
    frames = [_solid(c, (40, 30)) for c in (GREY, RED, BLUE)]
    return _encode(
        frames[0],
        "PNG",
        save_all=True,
        append_images=frames[1:],
        default_image=True,
        duration=(80, 120),  # the fallback image has no delay of its own
    )


def oriented_jpeg() -> bytes:
    """Stored 40 x 20, left half red, right half blue; EXIF orientation 6 turns it upright
    to 20 x 40 with red on top. Carries GPS coordinates and a camera make."""
    im = Image.new("RGB", (40, 20), BLUE)
    im.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "ReactbinCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 24.0)
    return _encode(im, "JPEG", quality=95, exif=exif)


def corrupt_exif_jpeg() -> bytes:
    """Fine pixels, but the EXIF IFD claims 65,280 entries: Pillow warns "Corrupt EXIF data"."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "ReactbinCam"
    raw = exif.tobytes()  # b"Exif\0\0" + 8-byte TIFF header + 2-byte entry count + ...
    return _encode(Image.new("RGB", (40, 20), RED), "JPEG", exif=raw[:14] + b"\xff\x00" + raw[16:])


def still_webp() -> bytes:
    return _encode(_solid(GREEN, (40, 30)), "WEBP", quality=90)


def animated_webp() -> bytes:
    frames = [_solid(c, (40, 30)) for c in (RED, GREEN, BLUE)]
    return _encode(
        frames[0],
        "WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=WEBP_DURATIONS,
        lossless=True,
        loop=0,
    )


def rgba_png() -> bytes:
    im = _solid(RED, (40, 30)).convert("RGBA")
    im.putalpha(Image.linear_gradient("L").resize((40, 30)))
    return _encode(im, "PNG")


def palette_transparent_png() -> bytes:
    im = Image.new("P", (40, 30), 0)
    im.putpalette([0, 0, 0, *RED])
    im.paste(1, (10, 5, 30, 25))
    return _encode(im, "PNG", transparency=0)


def gray16_png() -> bytes:
    """64 x 8, 16-bit grey, dark on the left and light on the right."""
    im = Image.new("I;16", (64, 8))
    im.putdata([x * 1040 for _ in range(8) for x in range(64)])
    return _encode(im, "PNG")


def la_png() -> bytes:
    im = Image.merge(
        "LA", (Image.new("L", (40, 30), 90), Image.linear_gradient("L").resize((40, 30)))
    )
    return _encode(im, "PNG")


def cmyk_jpeg() -> bytes:
    return _encode(_solid(RED, (40, 30)).convert("CMYK"), "JPEG", quality=95)


def bilevel_png() -> bytes:
    im = Image.new("1", (40, 30), 0)
    im.paste(1, (0, 0, 20, 30))
    return _encode(im, "PNG")


def strip_png() -> bytes:
    """1 x 30,000: the longest side the default limits accept."""
    return _encode(Image.linear_gradient("L").resize((1, 30_000)), "PNG")


def noise_png() -> bytes:
    return _encode(_noise((64, 64), 1), "PNG")


def noise_jpeg() -> bytes:
    return _encode(_noise((64, 64), 2), "JPEG", quality=90)


def noise_gif() -> bytes:
    return _encode(_noise((64, 64), 3).convert("P"), "GIF")


# --- accepted, but carrying metadata that sanitize must remove -----------------------------

SCRIPT = b"<script>alert(document.cookie)</script>"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude='
    b'"52,22.2N"/></rdf:RDF></x:xmpmeta>'
)


def _gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "ReactbinCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 24.0)
    return exif


def srgb_profile() -> bytes:
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = bytes(12)  # the creation date: zeroed so the samples are reproducible
    return bytes(profile)


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def metadata_jpeg() -> bytes:
    """Upright JPEG with GPS EXIF, XMP, ICC, IPTC, a JFIF thumbnail and a <script> comment."""
    im = _noise((48, 32), 4)
    data = _encode(im, "JPEG", quality=90, exif=_gps_exif(), icc_profile=srgb_profile(), xmp=XMP)
    jfif_with_thumbnail = b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x01\x01" + bytes(RED)
    extra = _jpeg_segment(
        0xED, b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0\0\0\0\x0cCaption here"
    ) + _jpeg_segment(0xFE, b"comment " + SCRIPT)
    # Replace Pillow's JFIF APP0 (always first, 18 bytes) with one carrying a 1x1 thumbnail.
    assert data[2:4] == b"\xff\xe0"
    app0_end = 4 + struct.unpack_from(">H", data, 4)[0]
    return b"\xff\xd8" + _jpeg_segment(0xE0, jfif_with_thumbnail) + extra + data[app0_end:]


def stereo_mpo() -> bytes:
    """Two pictures (MPO, as 3D cameras write): browsers show the first, a plain JPEG."""
    left, right = _solid(RED, (40, 30)), _solid(BLUE, (40, 30))
    return _encode(left, "MPO", save_all=True, append_images=[right], quality=90)


def _png_chunk_before(data: bytes, kind: bytes, chunks: bytes) -> bytes:
    pos = data.index(kind) - 4
    return data[:pos] + chunks + data[pos:]


def metadata_png() -> bytes:
    """APNG with GPS eXIf, tEXt/zTXt/iTXt (one holding a <script>), tIME, a private chunk, iCCP."""
    data = _encode(
        _noise((40, 30), 5),
        "PNG",
        save_all=True,
        append_images=[_noise((40, 30), 6), _noise((40, 30), 7)],
        duration=APNG_DURATIONS,
        exif=_gps_exif(),
        icc_profile=srgb_profile(),
    )
    text = (
        _chunk(b"tEXt", b"Comment\0" + SCRIPT)
        + _chunk(b"zTXt", b"Author\0\0" + zlib.compress(b"someone@example.com"))
        + _chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + XMP)
        + _chunk(b"tIME", struct.pack(">HBBBBB", 2026, 1, 2, 3, 4, 5))
        + _chunk(b"prVt", b"private tracking id 1234")
    )
    return _png_chunk_before(data, b"IDAT", text)


def metadata_webp() -> bytes:
    """Animated WebP with GPS EXIF, XMP, ICC and an unknown chunk."""
    frames = [_solid(c, (40, 30)) for c in (RED, GREEN, BLUE)]
    data = _encode(
        frames[0],
        "WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=WEBP_DURATIONS,
        lossless=True,
        exif=_gps_exif(),
        xmp=XMP,
        icc_profile=srgb_profile(),
    )
    unknown = b"UNKN" + struct.pack("<I", len(SCRIPT)) + SCRIPT + b"\0" * (len(SCRIPT) & 1)
    body = data[12:] + unknown
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def still_metadata_webp() -> bytes:
    return _encode(_noise((40, 30), 8), "WEBP", quality=90, exif=_gps_exif(), xmp=XMP)


def metadata_gif() -> bytes:
    """The animated GIF plus a <script> comment, an XMP application block and trailing HTML."""
    data = animated_gif()
    header_end = 13 + (3 << ((data[10] & 7) + 1))
    comment = b"!\xfe" + bytes((len(SCRIPT),)) + SCRIPT + b"\0"
    xmp = b"!\xff\x0bXMP DataXMP" + b"".join(
        bytes((len(part),)) + part for part in (XMP[i : i + 255] for i in range(0, len(XMP), 255))
    )
    xmp += b"\0"
    return data[:header_end] + xmp + comment + data[header_end:] + b"<html>" + SCRIPT


# --- hostile files -------------------------------------------------------------------------


def truncated(make: Callable[[], bytes]) -> Callable[[], bytes]:
    def cut() -> bytes:
        data = make()
        return data[: len(data) * 6 // 10]  # inside the pixel data, well after every header

    return cut


def corrupt_header_png() -> bytes:
    data = bytearray(still_png())
    data[29] ^= 0xFF  # last byte of the IHDR CRC
    return bytes(data)


def random_bytes() -> bytes:
    return _rng(20261125).randbytes(1024)


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.domain)</script><rect width='10' height='10'/></svg>\n"
    )


def html() -> bytes:
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
        b"trailer <</Root 1 0 R>>\n%%EOF\n"
    )


def bmp() -> bytes:
    return _encode(_solid(RED, (16, 16)), "BMP")


def tiff() -> bytes:
    return _encode(_solid(RED, (16, 16)), "TIFF")


def ico() -> bytes:
    return _encode(_solid(RED, (16, 16)), "ICO", sizes=[(16, 16)])


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("readme.txt", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, "not an image\n")
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header for a huge image, with a token IDAT: a bomb's first bytes."""
    idat = zlib.compress(b"\x00" * 64)
    return _png_header(width, height) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def gif_screen_65535() -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b";"


def gif_frames(count: int) -> bytes:
    """`count` frames of 1 x 1 pixel, hand-assembled (about 23 bytes a frame)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    delay = b"!\xf9\x04\x00\x0a\x00\x00\x00"
    frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + loop + (delay + frame) * count + b";"


def apng_claiming_frames(count: int) -> bytes:
    """A 1 x 1 APNG whose acTL says `count` frames (it holds one)."""
    data = png_declaring(1, 1)
    actl = _chunk(b"acTL", struct.pack(">II", count, 0))
    return data[:33] + actl + data[33:]


SAMPLES: dict[str, Callable[[], bytes]] = {
    "still.gif": still_gif,
    "animated.gif": animated_gif,
    "still.png": still_png,
    "animated.png": animated_png,
    "apng_fallback.png": apng_with_fallback,
    "orientation6_gps.jpg": oriented_jpeg,
    "corrupt_exif.jpg": corrupt_exif_jpeg,
    "still.webp": still_webp,
    "animated.webp": animated_webp,
    "rgba.png": rgba_png,
    "palette_transparent.png": palette_transparent_png,
    "gray16.png": gray16_png,
    "la.png": la_png,
    "cmyk.jpg": cmyk_jpeg,
    "bilevel.png": bilevel_png,
    "strip_1x30000.png": strip_png,
    "noise.png": noise_png,
    "noise.jpg": noise_jpeg,
    "noise.gif": noise_gif,
    "metadata.jpg": metadata_jpeg,
    "stereo.mpo.jpg": stereo_mpo,
    "metadata.png": metadata_png,
    "metadata.webp": metadata_webp,
    "still_metadata.webp": still_metadata_webp,
    "metadata.gif": metadata_gif,
    "hostile/truncated.png": truncated(noise_png),
    "hostile/truncated.jpg": truncated(noise_jpeg),
    "hostile/truncated.gif": truncated(noise_gif),
    "hostile/corrupt_header.png": corrupt_header_png,
    "hostile/empty.gif": bytes,
    "hostile/random.bin": random_bytes,
    "hostile/image.svg": svg,
    "hostile/page.html": html,
    "hostile/document.pdf": pdf,
    "hostile/image.bmp": bmp,
    "hostile/image.tiff": tiff,
    "hostile/icon.ico": ico,
    "hostile/archive.zip": zip_archive,
    "hostile/declares_20000x20000.png": lambda: png_declaring(20_000, 20_000),
    "hostile/declares_8000x6000.png": lambda: png_declaring(8_000, 6_000),
    "hostile/declares_65535x65535.gif": gif_screen_65535,
    "hostile/frames_1500.gif": lambda: gif_frames(1_500),
    "hostile/declares_1000000_frames.png": lambda: apng_claiming_frames(1_000_000),
}


def main() -> int:
    for name, make in SAMPLES.items():
        target = HERE / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(make())
    total = sum((HERE / name).stat().st_size for name in SAMPLES)
    print(f"wrote {len(SAMPLES)} samples, {total:,} bytes, to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
