"""Video intake (MP4/MOV from phones) via PyAV: duration, frame size, codec and a JPEG poster frame.

A video counts only for the part that can actually be read: the duration is measured from the packets
demuxed, not taken from the header, so an upload cut short on a bad connection cannot pass as a full
30-second clip.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image

from .errors import MediaRejected
from .sniff import ACCEPTED_VIDEO_TYPES, detect_type
from .source import MediaLimits, Source, make_thumbnail, refuse_lies

# The poster is taken at this time (or the first frame if shorter): frame 0 is often black or blurred.
_POSTER_AT_S = 1.0
# Header durations round and edit lists trim; only a clear shortfall means the file was cut.
_TRUNCATION_TOLERANCE = 0.9


@dataclass
class AcceptedVideo:
    media_type: str
    sha256: str
    size_bytes: int
    duration_s: float
    width: int  # as displayed (display-matrix rotation applied)
    height: int
    codec: str
    fps: float | None
    rotation: int
    poster_jpeg: bytes = field(repr=False)
    kind: str = "video"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "media_type": self.media_type,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "duration_s": round(self.duration_s, 3),
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "fps": self.fps,
            "rotation": self.rotation,
        }


def inspect_video(
    source: Source,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    limits: MediaLimits | None = None,
) -> AcceptedVideo:
    limits = limits or MediaLimits()
    size, sha256, head = _measure(source, limits.max_video_bytes)
    detected = detect_type(head)
    refuse_lies(detected, filename, content_type)
    if detected not in ACCEPTED_VIDEO_TYPES:
        raise MediaRejected("not_a_video", {"detected": detected})
    cut = _box_overrun(source, size)
    try:
        container = av.open(_as_input(source), mode="r")
    except Exception:
        code = "video_truncated" if cut else "video_corrupt"
        raise MediaRejected(code, {"format": "mp4"} if code == "video_corrupt" else {}) from None
    with container:
        try:
            return _inspect_container(container, detected, size, sha256, cut, limits)
        except MediaRejected:
            raise
        except Exception:
            # Damaged headers surface as odd attribute/value errors deep in PyAV: refuse, never crash.
            raise MediaRejected("video_corrupt", {"format": "mp4"}) from None


def _inspect_container(
    container: Any, detected: str, size: int, sha256: str, cut: bool, limits: MediaLimits
) -> AcceptedVideo:
    if not container.streams.video:
        raise MediaRejected("not_a_video", {"detected": detected})
    stream = container.streams.video[0]
    codec = (stream.codec_context.name or "unknown").lower()
    if codec not in limits.video_codecs:
        raise MediaRejected("unsupported_codec", {"codec": codec})
    width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
    if width * height > limits.max_video_pixels:
        raise MediaRejected(
            "video_too_many_pixels", {"width": width, "height": height, "max_pixels": limits.max_video_pixels}
        )
    declared_s = _declared_duration(container, stream)
    poster, rotation, readable_s = _scan(container, stream)
    if poster is None or width * height == 0:
        raise MediaRejected("video_corrupt", {"format": "mp4"})
    if cut or (declared_s and readable_s < declared_s * _TRUNCATION_TOLERANCE - 0.5):
        raise MediaRejected(
            "video_truncated", {"declared_s": round(declared_s or 0.0, 3), "readable_s": round(readable_s, 3)}
        )
    duration = readable_s
    if duration < limits.min_video_s:
        raise MediaRejected("video_too_short", {"actual_s": round(duration, 2), "required_s": limits.min_video_s})
    if duration > limits.max_video_s:
        raise MediaRejected("video_too_long", {"actual_s": round(duration, 2), "max_s": limits.max_video_s})
    rate = stream.average_rate or stream.guessed_rate
    if rotation % 180:  # report the size as displayed, like the poster
        width, height = height, width
    return AcceptedVideo(
        media_type=detected,
        sha256=sha256,
        size_bytes=size,
        duration_s=duration,
        width=width,
        height=height,
        codec=codec,
        fps=round(float(rate), 3) if rate else None,
        rotation=rotation,
        poster_jpeg=make_thumbnail(poster, max(poster.size), quality=85),
    )


def _declared_duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _scan(container: Any, stream: Any) -> tuple[Image.Image | None, int, float]:
    """Demux every packet (cheap) but decode only until the poster frame is found (expensive)."""
    time_base: Fraction = stream.time_base or Fraction(1, 90000)
    start: int | None = None
    end = 0
    poster: Image.Image | None = None
    rotation = 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue  # flush packet
            start = packet.pts if start is None else min(start, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
            if poster is not None and float((packet.pts - start) * time_base) > _POSTER_AT_S:
                continue
            for frame in packet.decode():
                poster = frame.to_image()
                rotation = int(getattr(frame, "rotation", 0) or 0)
    except Exception:
        # A decode or demux error part-way: keep what was readable; the duration check judges it.
        pass
    readable = float((end - start) * time_base) if start is not None else 0.0
    if poster is not None and rotation:
        # Display matrix rotation is counter-clockwise in degrees; PIL rotates counter-clockwise too.
        poster = poster.rotate(rotation, expand=True)
    return poster, rotation, readable


def _measure(source: Source, max_bytes: int) -> tuple[int, str, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        size, digest, head = len(data), hashlib.sha256(data).hexdigest(), data[:64]
    else:
        size = Path(source).stat().st_size
        if size > max_bytes:
            raise MediaRejected("too_large", {"size_bytes": size, "max_bytes": max_bytes})
        h = hashlib.sha256()
        with open(source, "rb") as fh:
            head = fh.read(64)
            h.update(head)
            while block := fh.read(1 << 20):
                h.update(block)
        digest = h.hexdigest()
    if size == 0:
        raise MediaRejected("empty_file")
    if size > max_bytes:
        raise MediaRejected("too_large", {"size_bytes": size, "max_bytes": max_bytes})
    return size, digest, head


def _as_input(source: Source) -> Any:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    return os.fspath(source)


def _box_overrun(source: Source, size: int) -> bool:
    """True if a top-level ISO-BMFF box claims more bytes than the file has: the tell of a cut upload."""
    with io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray | memoryview) else open(source, "rb") as fh:
        pos = 0
        while pos + 8 <= size:
            fh.seek(pos)
            header = fh.read(16)
            box_size = int.from_bytes(header[0:4], "big")
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                return False  # "extends to end of file" by definition
            if box_size < 8:
                return False  # not a box structure we understand; let the demuxer judge
            pos += box_size
        return pos > size
