"""Refusal of an uploaded media file, as a stable code plus parameters the UI translates.

=====================  ====================================  ===============================================
code                   params                                when
=====================  ====================================  ===============================================
empty_file             {}                                    zero bytes
too_large              size_bytes, max_bytes                 file larger than the configured limit
not_an_image           detected                              bytes are no image we know (e.g. text, exe)
not_a_video            detected                              declared/required video but bytes are not one,
                                                             or a container without a video stream
unsupported_type       detected                              a real image/container we do not accept
                                                             (GIF, BMP, TIFF, WebP, AVIF, ...)
type_mismatch          declared, detected                    content-type or extension disagrees with the
                                                             bytes (PNG named .jpg, .exe renamed .jpg)
truncated              format                                image data ends early (JPEG/PNG/HEIC)
corrupt                format                                image data cannot be decoded
too_many_pixels        width, height, pixels, max_pixels     header announces more pixels than allowed
                                                             (checked before decoding: decompression bomb)
image_too_small        width, height, min_side               smaller than a usable evidence photo
video_corrupt          format                                container/stream cannot be read or decoded
video_truncated        declared_s, readable_s                fewer media samples than the header announces
unsupported_codec      codec                                 video codec outside the accepted set
video_too_short        actual_s, required_s                  shorter than the required duration
video_too_long         actual_s, max_s                       longer than the allowed duration
video_too_many_pixels  width, height, max_pixels             frame size above the limit
not_an_audio           {}                                    an audio field's file is no MP3/M4A/WAV/OGG
                                                             recording PyAV can decode
not_a_png              detected                              a signature that is not a PNG image
=====================  ====================================  ===============================================
"""

from __future__ import annotations

MEDIA_REJECTION_CODES: frozenset[str] = frozenset(
    {
        "empty_file",
        "too_large",
        "not_an_image",
        "not_a_video",
        "unsupported_type",
        "type_mismatch",
        "truncated",
        "corrupt",
        "too_many_pixels",
        "image_too_small",
        "video_corrupt",
        "video_truncated",
        "unsupported_codec",
        "video_too_short",
        "video_too_long",
        "video_too_many_pixels",
        "not_an_audio",
        "not_a_png",
    }
)


class MediaRejected(Exception):
    """A file the intake refuses. ``code`` is from ``MEDIA_REJECTION_CODES``; ``params`` are JSON-safe."""

    def __init__(self, code: str, params: dict[str, object] | None = None) -> None:
        if code not in MEDIA_REJECTION_CODES:
            raise ValueError(f"unknown media rejection code {code!r}")
        self.code = code
        self.params = dict(params or {})
        super().__init__(f"{code} {self.params}" if self.params else code)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "params": self.params}
