"""Decode a photo once into the two resolutions the comparison needs.

* ``work``: long edge ``WORK_EDGE`` px, for hashing, registration, change maps and lamps: a 12 MP photo
  has far more pixels than these checks can use, and their cost grows with the pixel count.
* ``detail``: long edge up to ~2000 px, for OCR crops, where small print needs the resolution.

JPEGs are decoded with ``draft`` so libjpeg scales in the DCT domain (a 12 MP photo decodes at 1/2 scale
in about half the time of a full decode); other formats are decoded fully.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .errors import MediaRejected
from .exif import ExifFacts, read_exif
from .media import PIL_FORMAT, MediaLimits, decode_fully, open_image
from .phash import phash
from .sniff import ACCEPTED_IMAGE_TYPES, detect_type

WORK_EDGE = 1024
DETAIL_MIN_EDGE = 1600  # draft never goes below this, so OCR crops keep their resolution


@dataclass
class Photo:
    sha256: str
    exif: ExifFacts
    detail: np.ndarray  # RGB uint8, upright
    work: np.ndarray  # RGB uint8, long edge WORK_EDGE (or less for small photos)
    work_grey: np.ndarray  # uint8
    phash: int

    @property
    def work_scale(self) -> float:
        """work pixels per detail pixel."""
        return self.work.shape[1] / self.detail.shape[1]


def load_photo(data: bytes, limits: MediaLimits | None = None) -> Photo:
    limits = limits or MediaLimits()
    if not data:
        raise MediaRejected("empty_file")
    media_type = detect_type(data[:64])
    if media_type not in ACCEPTED_IMAGE_TYPES:
        raise MediaRejected("not_an_image", {"detected": media_type})
    fmt = PIL_FORMAT[media_type]
    image = open_image(data, fmt, limits)
    if min(image.size) < limits.min_image_side:  # the upload path's minimum: too few pixels to compare
        w, h = image.size
        raise MediaRejected("image_too_small", {"width": w, "height": h, "min_side": limits.min_image_side})
    exif = read_exif(image)
    if fmt == "JPEG":
        scale = max(1.0, max(image.size) / DETAIL_MIN_EDGE)
        image.draft("RGB", (int(image.width / scale), int(image.height / scale)))
    detail = np.asarray(decode_fully(image, fmt))
    work = resize_long_edge(detail, WORK_EDGE)
    grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    return Photo(
        sha256=hashlib.sha256(data).hexdigest(), exif=exif, detail=detail, work=work, work_grey=grey, phash=phash(grey)
    )


def resize_long_edge(rgb: np.ndarray, edge: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = edge / max(h, w)
    if scale >= 1.0:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def encode_png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # Fast compression: the overlay is a review aid and is re-read rarely; encoding time is per pair.
    Image.fromarray(rgb).save(buf, "PNG", compress_level=1)
    return buf.getvalue()
