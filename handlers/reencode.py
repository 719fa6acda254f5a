"""Images as served to browsers: a fresh file made from the decoded pixels, never the uploaded bytes.

An upload can be a valid JPEG and something else at once (a ZIP or an HTML page appended after the
image, a script hidden in a metadata segment).  Whatever the original holds besides its pixels is gone
from a file encoded again from those pixels: that copy is what browsers get.  The original stays in
the store untouched for the evidence checks (hashes, EXIF time and place, sensor grain); the EXIF
orientation is applied to the pixels, so the copy shows upright without any metadata.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageOps

JPEG_QUALITY = 92
FORMATS = ("JPEG", "PNG", "HEIF")  # what the evidence intake accepts, nothing else is decoded here


@dataclass(frozen=True)
class Reencoded:
    data: bytes
    media_type: str  # image/jpeg, or image/png for pictures with transparency


def reencode_image(source: bytes | BinaryIO, max_pixels: int = 50_000_000) -> Reencoded:
    """Decode ``source`` and encode its upright pixels again (JPEG, or PNG when it has transparency).

    Raises ``ValueError`` when the bytes are not a decodable picture within ``max_pixels``.
    """
    pillow_heif.register_heif_opener()  # idempotent; HEIC photos from iPhones
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        with Image.open(stream, formats=FORMATS) as opened:
            if opened.width * opened.height > max_pixels:
                raise ValueError(f"{opened.width}x{opened.height} pixels is more than {max_pixels}")
            opened.load()
            image = ImageOps.exif_transpose(opened) or opened
            transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            out = io.BytesIO()
            if transparent:
                image.convert("RGBA").save(out, "PNG", optimize=False)
                return Reencoded(out.getvalue(), "image/png")
            image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
            return Reencoded(out.getvalue(), "image/jpeg")
    except ValueError:
        raise
    except Exception as err:  # Pillow raises many kinds for undecodable data
        raise ValueError(f"not a decodable picture: {err}") from err
