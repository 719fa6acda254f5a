"""Media intake: decide whether uploaded bytes are an acceptable evidence photo or video.

``inspect_media`` is the entry point: it sniffs the bytes, refuses lies about the type, and hands over to
``inspect_image`` or ``inspect_video``. Every refusal is a ``MediaRejected(code, params)``; the codes are
listed in ``handlers.evidence.errors``. The original bytes are never modified: orientation is applied to
the thumbnail and the reported size only.

Decoders see hostile input here, so anything a decoder raises becomes a refusal, and the pixel budget is
enforced from the header before a single pixel is decoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, ImageOps

from .errors import MediaRejected
from .exif import ExifFacts, read_exif
from .sniff import (
    ACCEPTED_IMAGE_TYPES,
    ACCEPTED_VIDEO_TYPES,
    detect_type,
)
from .source import MediaLimits, Source, first_bytes, make_thumbnail, read_source, refuse_lies

pillow_heif.register_heif_opener()
# Explicitly refuse partial images: a truncated upload must never pass as evidence.  The flag is
# process-wide and WeasyPrint sets it to True when it is imported (the PDFs render in the same worker),
# so decode_fully asserts it again right before every decode.
ImageFile.LOAD_TRUNCATED_IMAGES = False

PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF"}


@dataclass
class AcceptedImage:
    media_type: str
    sha256: str
    size_bytes: int
    width: int  # after applying EXIF orientation, as a person sees the photo
    height: int
    exif: ExifFacts
    thumbnail_jpeg: bytes = field(repr=False)
    kind: str = "image"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "media_type": self.media_type,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            **self.exif.to_dict(),
        }


def inspect_media(
    source: Source,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    expect: str | None = None,
    limits: MediaLimits | None = None,
) -> object:
    """Return ``AcceptedImage`` or ``AcceptedVideo``; raise ``MediaRejected``.

    ``expect`` ("image", "video", "audio" or "signature") is what the form field asked for; a file of
    another kind is refused.  A signature is a PNG image; audio is checked by ``audio.inspect_audio``.
    """
    from .video import inspect_video  # local: PyAV is heavy and only needed for videos

    limits = limits or MediaLimits()
    if expect == "audio":
        from .audio import inspect_audio

        return inspect_audio(source)
    if expect == "signature":  # a pad's drawing: a PNG image, nothing else
        drawn = inspect_image(source, filename=filename, content_type=content_type, limits=limits)
        if drawn.media_type != "image/png":
            raise MediaRejected("not_a_png", {"detected": drawn.media_type})
        return drawn
    head = first_bytes(source)
    detected = detect_type(head)
    if detected in ACCEPTED_VIDEO_TYPES and expect != "image":
        return inspect_video(source, filename=filename, content_type=content_type, limits=limits)
    if expect == "video":
        refuse_lies(detected, filename, content_type)
        raise MediaRejected("not_a_video", {"detected": detected})
    return inspect_image(source, filename=filename, content_type=content_type, limits=limits)


def inspect_image(
    source: Source,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    limits: MediaLimits | None = None,
) -> AcceptedImage:
    limits = limits or MediaLimits()
    data = read_source(source, limits.max_image_bytes)
    detected = detect_type(data[:64])
    refuse_lies(detected, filename, content_type)
    if detected not in ACCEPTED_IMAGE_TYPES:
        if detected.startswith("image/"):
            raise MediaRejected("unsupported_type", {"detected": detected})
        raise MediaRejected("not_an_image", {"detected": detected})
    fmt = PIL_FORMAT[detected]
    image = open_image(data, fmt, limits)
    w, h = image.size
    if min(w, h) < limits.min_image_side:
        raise MediaRejected("image_too_small", {"width": w, "height": h, "min_side": limits.min_image_side})
    exif = read_exif(image)
    upright = decode_fully(image, fmt)
    if fmt == "PNG" and data.rfind(b"IEND\xaeB`\x82") < 0:
        # Pillow stops reading once the pixels are complete; a missing end chunk still means a cut file.
        raise MediaRejected("truncated", {"format": "png"})
    return AcceptedImage(
        media_type=detected,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=upright.width,
        height=upright.height,
        exif=exif,
        thumbnail_jpeg=make_thumbnail(upright, limits.thumbnail_edge),
    )


def open_image(data: bytes, fmt: str, limits: MediaLimits) -> Image.Image:
    """Parse the header only and enforce the pixel budget before any decoding happens."""
    try:
        with warnings.catch_warnings():
            # Pillow's own (larger) budget only warns here; ours below is stricter and reports the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError:
        raise MediaRejected("too_many_pixels", {"max_pixels": limits.max_pixels}) from None
    except Exception as exc:
        raise _decode_failure(exc, fmt) from None
    w, h = image.size
    if w * h > limits.max_pixels:
        raise MediaRejected(
            "too_many_pixels", {"width": w, "height": h, "pixels": w * h, "max_pixels": limits.max_pixels}
        )
    if w <= 0 or h <= 0:
        raise MediaRejected("corrupt", {"format": fmt.lower()})
    return image


def decode_fully(image: Image.Image, fmt: str) -> Image.Image:
    """Decode every pixel (truncation only shows at the end of the data); return the upright RGB image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            image.load()
            return upright_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected("too_many_pixels", {"width": image.width, "height": image.height}) from None
    except Exception as exc:
        raise _decode_failure(exc, fmt) from None


def upright_rgb(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation so pixels are as the person saw them; a broken tag means "as stored"."""
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    return image if image.mode == "RGB" else to_rgb8(image)


def to_rgb8(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode Pillow decodes, keeping the picture's brightness.

    Pillow's own ``convert("RGB")`` clips the integer and float modes to 0..255: a 16-bit greyscale PNG
    (mode ``I;16``/``I``, values up to 65535) turns all white and every lamp reads "white on". Those modes
    are scaled from their bit depth instead (16-bit: /257; float: 0..1, or 0..255 when it is larger).
    16-bit colour PNGs already arrive as 8-bit ``RGB``/``RGBA``; palette, LA, RGBA and CMYK convert fine.
    """
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if finite.size else 0.0
        if image.mode == "F":
            scale = 255.0 if top <= 1.0 else (1.0 if top <= 255.0 else 255.0 / top)
        elif image.mode.startswith("I;16") or 255 < top <= 65535:
            scale = 1 / 257  # 16-bit samples (a PNG may also arrive as mode I)
        else:
            scale = 1.0 if top <= 255 else 255.0 / top
        grey = np.clip(np.nan_to_num(values * scale), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return image.convert("RGB")


def _decode_failure(exc: BaseException, fmt: str) -> MediaRejected:
    message = str(exc).lower()
    if isinstance(exc, EOFError) or any(
        marker in message
        for marker in ("truncated", "premature end", "broken data stream", "not enough data", "end of file")
    ):
        return MediaRejected("truncated", {"format": fmt.lower()})
    return MediaRejected("corrupt", {"format": fmt.lower()})
