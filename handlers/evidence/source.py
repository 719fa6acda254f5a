"""What photo and video intake share: where the bytes come from, the limits, and the checks both run.

Its own module so that ``media`` (which hands videos over) and ``video`` depend on it, not on each other.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .errors import MediaRejected
from .sniff import claim_contradicts, declared_types

Source = bytes | bytearray | memoryview | str | os.PathLike[str]


@dataclass(frozen=True)
class MediaLimits:
    max_image_bytes: int = 40 * 1024 * 1024
    max_video_bytes: int = 1024 * 1024 * 1024
    max_pixels: int = 50_000_000
    min_image_side: int = 64
    thumbnail_edge: int = 320
    min_video_s: float = 30.0
    max_video_s: float = 15 * 60.0
    max_video_pixels: int = 4096 * 2304
    video_codecs: frozenset[str] = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"})


def read_source(source: Source, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        size = path.stat().st_size
        if size > max_bytes:
            raise MediaRejected("too_large", {"size_bytes": size, "max_bytes": max_bytes})
        data = path.read_bytes()
    if not data:
        raise MediaRejected("empty_file")
    if len(data) > max_bytes:
        raise MediaRejected("too_large", {"size_bytes": len(data), "max_bytes": max_bytes})
    return data


def first_bytes(source: Source) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:64])
    with open(source, "rb") as fh:
        return fh.read(64)


def refuse_lies(detected: str, filename: str | None, content_type: str | None) -> None:
    for claim in declared_types(filename, content_type):
        if claim_contradicts(claim, detected):
            raise MediaRejected("type_mismatch", {"declared": claim, "detected": detected})


def make_thumbnail(image: Image.Image, edge: int, quality: int = 80) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
