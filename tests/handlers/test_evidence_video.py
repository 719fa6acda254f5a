"""Video intake with small clips written by PyAV in the test itself."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from handlers.evidence.errors import MediaRejected
from handlers.evidence.media import MediaLimits, inspect_media
from handlers.evidence.video import AcceptedVideo, inspect_video


def make_video(
    seconds: float,
    *,
    fps: int = 5,
    codec: str = "libx264",
    fmt: str = "mp4",
    size: tuple[int, int] = (96, 64),
    path: Path | None = None,
    faststart: bool = False,
    rotation: int = 0,
) -> bytes:
    target: io.BytesIO | str = io.BytesIO() if path is None else str(path)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(target, "w", format=fmt, options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)  # what a phone held upright writes
        for i in range(int(seconds * fps)):
            frame = np.zeros((size[1], size[0], 3), np.uint8)
            frame[:, : (i * 3) % size[0]] = (200, 80, 40)  # a moving edge, so frames differ
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return target.getvalue() if isinstance(target, io.BytesIO) else Path(target).read_bytes()


@pytest.fixture(scope="module")
def clip_31s() -> bytes:
    return make_video(31)


def refused(data: bytes | Path, **kw: object) -> MediaRejected:
    with pytest.raises(MediaRejected) as info:
        inspect_media(data, **kw)
    return info.value


def test_mp4_duration_size_codec_and_poster(clip_31s: bytes) -> None:
    result = inspect_media(clip_31s, filename="VID_0001.mp4", content_type="video/mp4")
    assert isinstance(result, AcceptedVideo)
    assert result.duration_s == pytest.approx(31.0, abs=0.3)
    assert (result.width, result.height, result.codec) == (96, 64, "h264")
    assert result.fps == pytest.approx(5.0)
    poster = Image.open(io.BytesIO(result.poster_jpeg))
    assert poster.format == "JPEG" and poster.size == (96, 64)
    assert result.to_json()["duration_s"] == pytest.approx(31.0, abs=0.3)


def test_portrait_phone_video_is_reported_as_displayed() -> None:
    result = inspect_video(make_video(31, rotation=90))
    assert result.rotation == 90 and (result.width, result.height) == (64, 96)
    assert Image.open(io.BytesIO(result.poster_jpeg)).size == (64, 96)


def test_short_video_is_refused_with_actual_and_required_seconds() -> None:
    err = refused(make_video(12))
    assert err.code == "video_too_short"
    assert err.params["required_s"] == 30.0
    assert err.params["actual_s"] == pytest.approx(12.0, abs=0.3)
    # The requirement is configurable.
    assert inspect_video(make_video(12), limits=MediaLimits(min_video_s=10)).duration_s == pytest.approx(12, abs=0.3)


def test_quicktime_from_a_path_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "clip.mov"
    make_video(31, fmt="mov", path=path)
    result = inspect_media(path, filename="clip.mov")
    assert result.media_type == "video/quicktime" and result.duration_s == pytest.approx(31.0, abs=0.3)


def test_unsupported_codec_is_refused() -> None:
    err = refused(make_video(31, codec="mjpeg", fmt="mov"))
    assert err.code == "unsupported_codec" and err.params == {"codec": "mjpeg"}


@pytest.mark.parametrize("faststart", [False, True])
def test_truncated_video_is_refused(tmp_path: Path, faststart: bool) -> None:
    data = make_video(31, path=tmp_path / "full.mp4", faststart=faststart)
    for cut in (len(data) // 3, len(data) * 2 // 3, len(data) - 100):
        assert refused(data[:cut]).code in {"video_truncated", "video_corrupt"}, cut
    assert refused(data[: len(data) * 2 // 3]).code == "video_truncated"


def test_not_a_video_and_lies() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (100, 100), (10, 20, 30)).save(jpeg, "JPEG")
    assert refused(jpeg.getvalue(), expect="video").code == "not_a_video"
    err = refused(jpeg.getvalue(), filename="clip.mp4")
    assert err.code == "type_mismatch" and err.params == {"declared": "video/mp4", "detected": "image/jpeg"}
    with pytest.raises(MediaRejected) as info:
        inspect_video(b"\x00\x00\x00\x18ftypisom" + bytes(200))
    assert info.value.code in {"video_corrupt", "video_truncated"}


def test_video_where_an_image_was_expected(clip_31s: bytes) -> None:
    assert refused(clip_31s, expect="image").code == "not_an_image"


def test_fuzzed_videos_never_crash(clip_31s: bytes) -> None:
    rng = np.random.default_rng(3)
    codes = set()
    for _ in range(40):
        data = bytearray(clip_31s)
        if rng.random() < 0.5:
            data = data[: int(rng.integers(1, len(data)))]
        else:
            for _ in range(int(rng.integers(1, 20))):
                data[int(rng.integers(len(data)))] = int(rng.integers(256))
        try:
            inspect_media(bytes(data))
            codes.add("accepted")
        except MediaRejected as exc:
            codes.add(exc.code)
    assert codes - {"accepted"}
