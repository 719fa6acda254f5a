"""Audio intake (a voice note or a machine's noise): MP3, M4A (AAC), WAV or OGG, checked by decoding.

The container is opened with PyAV and must hold an audio stream; the duration is measured from the
packets demuxed, not taken from the header, so a cut upload cannot pass for the full recording.  The
media type served back later is the one decided here from the container, never the client's claim.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from .errors import MediaRejected
from .source import Source

MAX_AUDIO_BYTES = 50 * 1024 * 1024  # the size cap bounds the length too (an hour of 96 kbit/s MP3 is 43 MB)
# PyAV's container format name -> the media type the file is served as
AUDIO_FORMATS = {
    "mp3": "audio/mpeg",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
}
AUDIO_CODECS = frozenset({"mp3", "mp3float", "aac", "pcm_s16le", "pcm_s24le", "pcm_u8", "pcm_f32le", "vorbis", "opus"})


@dataclass
class AcceptedAudio:
    media_type: str
    sha256: str
    size_bytes: int
    duration_s: float
    codec: str
    sample_rate: int
    kind: str = "audio"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "media_type": self.media_type,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "duration_s": round(self.duration_s, 3),
            "codec": self.codec,
            "sample_rate": self.sample_rate,
        }


def inspect_audio(source: Source, *, max_bytes: int = MAX_AUDIO_BYTES) -> AcceptedAudio:
    """Return ``AcceptedAudio``; raise ``MediaRejected("not_an_audio")`` for anything else."""
    data = Path(source).read_bytes() if not isinstance(source, bytes | bytearray | memoryview) else bytes(source)
    if not data:
        raise MediaRejected("empty_file")
    if len(data) > max_bytes:
        raise MediaRejected("too_large", {"size_bytes": len(data), "max_bytes": max_bytes})
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except Exception:
        raise MediaRejected("not_an_audio", {}) from None
    with container:
        try:
            media_type = AUDIO_FORMATS.get(container.format.name)
            if media_type is None or not container.streams.audio:
                raise MediaRejected("not_an_audio", {})
            stream = container.streams.audio[0]
            codec = (stream.codec_context.name or "").lower()
            if codec not in AUDIO_CODECS:
                raise MediaRejected("not_an_audio", {})
            duration = _readable_seconds(container, stream)
        except MediaRejected:
            raise
        except Exception:
            raise MediaRejected("not_an_audio", {}) from None
    if duration <= 0:
        raise MediaRejected("not_an_audio", {})
    return AcceptedAudio(
        media_type=media_type,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        duration_s=duration,
        codec=codec,
        sample_rate=int(stream.codec_context.sample_rate or 0),
    )


def _readable_seconds(container: Any, stream: Any) -> float:
    """Seconds between the first and the end of the last packet that could be demuxed and decoded."""
    time_base: Fraction = stream.time_base or Fraction(1, stream.codec_context.sample_rate or 44100)
    start: int | None = None
    end = 0
    decoded = 0
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        start = packet.pts if start is None else min(start, packet.pts)
        end = max(end, packet.pts + (packet.duration or 0))
        if decoded < 3:  # a few frames prove the codec data is real, not just a plausible header
            decoded += len(packet.decode())
    if start is None or decoded == 0:
        return 0.0
    return float((end - start) * time_base)


__all__ = ["AcceptedAudio", "inspect_audio"]
