"""Real files for the audio and signature fields' tests, made with PyAV and Pillow (no fixtures on disk)."""

from __future__ import annotations

import io
import math
from typing import Any

from processes.forms_editor.service import builder_fields, save_form
from processes.modeling import service as modeling

SIGNED = [
    {"name": "voice_note", "kind": "audio", "title_en": "Voice note", "title_zh": "语音备注", "required": False},
    {
        "name": "engineer_signature",
        "kind": "signature",
        "title_en": "Engineer's signature",
        "title_zh": "工程师签名",
        "help_en": "Sign with your finger",
        "help_zh": "用手指签名",
        "required": True,
    },
]


def sine_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A ``seconds`` 440 Hz sine as a 16-bit mono WAV, written by PyAV."""
    import av
    import numpy as np

    target = io.BytesIO()
    with av.open(target, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        samples = (np.sin(2 * math.pi * 440 * t) * 12000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return target.getvalue()


def image_bytes(fmt: str) -> bytes:
    """A 300×120 white image with a stroke, as PNG or JPEG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 120), "white")
    ImageDraw.Draw(image).line([(20, 90), (120, 30), (260, 80)], fill=(13, 27, 76), width=4)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def deploy_signed_accept_offer(platform: Any) -> None:
    """The lifecycle with a voice note and a required signature added to ``accept_offer`` via the builder."""
    with platform.db.session() as session:
        draft = modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner")
        fields = builder_fields(session, draft.id, "accept_offer") + SIGNED
        save_form(session, platform.engine, draft.id, "accept_offer", fields, "owner")
        modeling.deploy_draft(session, platform.engine, draft.id, "owner", "audio and signature on accept")
