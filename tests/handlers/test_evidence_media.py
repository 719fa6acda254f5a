"""Photo intake: every refusal code, orientation, HEIC, EXIF facts, and robustness to broken files."""

from __future__ import annotations

import io
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from handlers.evidence.errors import MEDIA_REJECTION_CODES, MediaRejected
from handlers.evidence.exif import build_exif
from handlers.evidence.media import AcceptedImage, MediaLimits, inspect_image, inspect_media


def photo(width: int = 400, height: int = 300, seed: int = 0) -> Image.Image:
    """A photo-like image: smooth gradient plus noise, with a bright marker in the top-left corner."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = 60 + 120 * x + 40 * y + rng.normal(0, 8, (height, width, 3))
    arr = np.clip(base, 0, 255).astype(np.uint8)
    arr[: height // 5, : width // 5] = (255, 40, 40)
    return Image.fromarray(arr)


def encode(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def rejected(data: bytes, **kw: object) -> MediaRejected:
    with pytest.raises(MediaRejected) as info:
        inspect_media(data, **kw)
    assert info.value.code in MEDIA_REJECTION_CODES
    return info.value


def test_accepts_jpeg_with_thumbnail_and_hash() -> None:
    data = encode(photo(800, 600), "JPEG", quality=90)
    result = inspect_media(data, filename="IMG_0001.JPG", content_type="image/jpeg")
    assert isinstance(result, AcceptedImage)
    assert (result.media_type, result.width, result.height) == ("image/jpeg", 800, 600)
    thumb = Image.open(io.BytesIO(result.thumbnail_jpeg))
    assert thumb.format == "JPEG" and max(thumb.size) == 320
    assert result.to_json()["sha256"] == result.sha256 and len(result.sha256) == 64


def test_accepts_png_from_path(tmp_path: Path) -> None:
    path = tmp_path / "panel.png"
    path.write_bytes(encode(photo(), "PNG"))
    result = inspect_media(path)
    assert result.media_type == "image/png" and (result.width, result.height) == (400, 300)


def test_exif_orientation_is_applied_to_size_and_thumbnail_but_not_bytes() -> None:
    # Stored landscape with orientation 6 ("rotate 90 CW to display"): people see a portrait photo.
    data = encode(photo(400, 300), "JPEG", quality=92, exif=build_exif(orientation=6))
    result = inspect_image(data)
    assert (result.width, result.height) == (300, 400)
    assert result.exif.orientation == 6
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnail_jpeg)).convert("RGB")).astype(int)
    h, w = thumb.shape[:2]
    assert h > w
    # The red marker (stored top-left) is displayed top-right after a 90 degree clockwise turn.
    top_right = thumb[: h // 8, -w // 8 :].mean(axis=(0, 1))
    top_left = thumb[: h // 8, : w // 8].mean(axis=(0, 1))
    assert top_right[0] > 200 and top_right[1] < 100
    assert top_left[0] < 200
    assert result.sha256 == __import__("hashlib").sha256(data).hexdigest()


def test_reads_capture_time_and_gps() -> None:
    exif = build_exif(datetime(2025, 3, 1, 9, 30, 5), (31.2304, -121.4737), offset="+08:00")
    result = inspect_image(encode(photo(), "JPEG", exif=exif))
    assert result.exif.taken_at is not None
    assert result.exif.taken_at.isoformat() == "2025-03-01T09:30:05+08:00"
    assert result.exif.gps == pytest.approx((31.2304, -121.4737), abs=1e-4)


def test_accepts_heic() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = encode(photo(640, 480), "HEIF", quality=80)
    result = inspect_media(data, filename="IMG_0002.HEIC", content_type="image/heic")
    assert result.media_type == "image/heic" and (result.width, result.height) == (640, 480)
    assert Image.open(io.BytesIO(result.thumbnail_jpeg)).size == (320, 240)


def test_refuses_empty_and_too_large() -> None:
    assert rejected(b"").code == "empty_file"
    data = encode(photo(), "JPEG")
    err = rejected(data, limits=MediaLimits(max_image_bytes=1000))
    assert err.code == "too_large" and err.params == {"size_bytes": len(data), "max_bytes": 1000}


def test_refuses_non_images_and_unsupported_images() -> None:
    assert rejected(b"hello, this is a text file" * 10).code == "not_an_image"
    assert rejected(encode(photo(), "GIF")).code == "unsupported_type"
    assert rejected(encode(photo(), "BMP")).params["detected"] == "image/bmp"


def test_refuses_files_that_lie_about_their_type() -> None:
    png = encode(photo(), "PNG")
    err = rejected(png, filename="photo.jpg")
    assert err.code == "type_mismatch" and err.params == {"declared": "image/jpeg", "detected": "image/png"}
    assert rejected(png, content_type="image/jpeg").code == "type_mismatch"
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200)
    err = rejected(exe, filename="holiday.jpg", content_type="image/jpeg")
    assert err.code == "type_mismatch" and err.params["detected"] == "application/x-msdownload"
    # Uninformative claims are not lies.
    assert inspect_media(png, filename="upload.tmp", content_type="application/octet-stream")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_refuses_truncated_images(fmt: str) -> None:
    # WeasyPrint turns Pillow's process-wide "load truncated images" on when imported, and the worker
    # renders PDFs beside the evidence checks: a truncated photo must still be refused after that.
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    data = encode(photo(600, 400), fmt)
    for cut in (len(data) // 2, len(data) - 20, len(data) - 2):
        assert rejected(data[:cut]).code == "truncated", cut


def test_refuses_pixel_bomb_from_the_header() -> None:
    # A 1-bit PNG of 200 MP compresses to a few kB: it must be refused before decoding.
    bomb = encode(Image.new("1", (20_000, 10_000)), "PNG")
    assert len(bomb) < 100_000
    err = rejected(bomb)
    assert err.code == "too_many_pixels"
    err = rejected(encode(Image.new("L", (3000, 2000)), "PNG"), limits=MediaLimits(max_pixels=5_000_000))
    assert err.params == {"width": 3000, "height": 2000, "pixels": 6_000_000, "max_pixels": 5_000_000}


def test_refuses_pillow_bomb_beyond_its_own_limit() -> None:
    # Beyond 2x Pillow's MAX_IMAGE_PIXELS Pillow raises DecompressionBombError itself: still a refusal.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = (30_000).to_bytes(4, "big") + (30_000).to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b"")
    assert rejected(raw).code == "too_many_pixels"


def test_refuses_tiny_and_corrupt_images() -> None:
    assert rejected(encode(photo(40, 30), "PNG")).code == "image_too_small"
    data = bytearray(encode(photo(), "PNG"))
    data[40:80] = bytes(40)  # destroy the image data checksum region
    assert rejected(bytes(data)).code in {"corrupt", "truncated"}


def test_fuzzed_files_are_accepted_or_refused_never_crash() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    rng = np.random.default_rng(7)
    originals = [
        encode(photo(320, 240, 1), "JPEG", quality=85),
        encode(photo(320, 240, 2), "PNG"),
        encode(photo(320, 240, 3), "HEIF", quality=70),
    ]
    outcomes = set()
    for original in originals:
        for _ in range(60):
            data = bytearray(original)
            mode = rng.integers(3)
            if mode == 0:
                for _ in range(int(rng.integers(1, 12))):
                    data[int(rng.integers(len(data)))] = int(rng.integers(256))
            elif mode == 1:
                data = data[: int(rng.integers(1, len(data)))]
            else:
                at = int(rng.integers(len(data)))
                data[at : at + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
            try:
                inspect_media(bytes(data))
                outcomes.add("accepted")
            except MediaRejected as exc:
                outcomes.add(exc.code)
    assert "truncated" in outcomes  # the fuzzer did produce broken files


def test_rejection_serialises_for_the_ui() -> None:
    err = MediaRejected("video_too_short", {"actual_s": 12.5, "required_s": 30.0})
    assert err.to_dict() == {"code": "video_too_short", "params": {"actual_s": 12.5, "required_s": 30.0}}
    with pytest.raises(ValueError):
        MediaRejected("no_such_code")
