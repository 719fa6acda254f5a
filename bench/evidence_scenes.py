"""Synthetic, labelled machine-panel photo pairs for bench.evidence (see its docstring for the kinds).

Each scene is drawn procedurally and photographed twice through a simulated phone camera; a pair
carries the truth about what changed, so the benchmark can count hits and false alarms.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from handlers.evidence.compare import CompareContext, NamedRegion
from handlers.evidence.exif import build_exif

FONT_MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
FONT_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SIZES = {1: (1152, 864), 3: (2000, 1500), 12: (4000, 3000)}
KINDS = (
    "reused_identical",
    "reencoded",
    "reshot_tripod",
    "changed_region",
    "lamp_change",
    "serial_change",
    "meter_change",
    "exif_time",
    "exif_gps",
    "nuisance_motion",
    "nuisance_exposure",
    "reshot_angle",
)
LAMP_COLOURS = {
    "red": (235, 30, 25),
    "amber": (255, 150, 0),
    "green": (30, 220, 60),
    "blue": (40, 90, 255),
    "white": (245, 245, 240),
}
MARGIN = 0.1  # scene canvas extends this far beyond the nominal view, so camera jitter never sees an edge
SITE = (31.2304, 121.4737)
CHANGES = ("sticker", "cable", "breakers", "tag", "module")


@dataclass
class Lamp:
    name: str
    colour: str
    on: bool


@dataclass
class Scene:
    seed: int
    wall: tuple[int, int, int]
    panel: tuple[int, int, int]
    lamps: list[Lamp]
    serial: str
    meter: str
    meter_style: str  # "lcd" or "led"
    breakers: list[bool]
    sticker: bool = True
    cable: int = 0
    tag: bool = False
    module: int = 0
    layout: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)


def random_scene(rng: np.random.Generator, seed: int) -> Scene:
    names = ["PWR", "RUN", "FLT", "COM", "ALM"][: rng.integers(3, 6)]
    lamps = [Lamp(n, str(rng.choice(list(LAMP_COLOURS))), bool(rng.random() < 0.5)) for n in names]
    grey = int(rng.integers(150, 215))
    tint = rng.integers(-18, 18, 3)
    x0, y0 = rng.uniform(0.14, 0.22), rng.uniform(0.12, 0.18)
    return Scene(
        seed=seed,
        wall=tuple(int(v) for v in rng.integers(70, 170, 3)),
        panel=tuple(int(np.clip(grey + t, 0, 255)) for t in tint),
        lamps=lamps,
        serial=random_serial(rng),
        meter=f"{rng.integers(0, 99999):05d}.{rng.integers(0, 10)}",
        meter_style=str(rng.choice(["lcd", "led"])),
        breakers=[bool(b) for b in rng.random(int(rng.integers(4, 8))) < 0.7],
        cable=int(rng.integers(0, 3)),
        module=int(rng.integers(0, 3)),
        layout={"panel": (x0, y0, x0 + rng.uniform(0.56, 0.64), y0 + rng.uniform(0.68, 0.74))},
    )


def random_serial(rng: np.random.Generator) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    head = "".join(rng.choice(list(letters), 2)) + str(rng.integers(1, 10))
    return f"{head}-{rng.integers(10000, 99999)}"


def render(scene: Scene, canvas: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, dict]:
    """Draw the scene; return (reflectance RGB uint8, emission RGB uint8, element boxes in canvas 0..1)."""
    W, H = canvas
    rng = np.random.default_rng(scene.seed)  # texture is a property of the scene, identical on re-shots
    low = rng.normal(0, 1, (H // 16 + 2, W // 16 + 2, 1)).astype(np.float32)
    tex = cv2.resize(low, (W, H), interpolation=cv2.INTER_CUBIC)[..., None] * 9
    fine = cv2.resize(rng.normal(0, 1, (H // 3 + 1, W // 3 + 1)).astype(np.float32), (W, H))[..., None] * 4
    base = np.clip(np.array(scene.wall, np.float32) + tex + fine, 0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    emit = Image.new("RGB", (W, H))
    d, e = ImageDraw.Draw(img), ImageDraw.Draw(emit)
    px = lambda u, v: (u * W, v * H)  # noqa: E731 - tiny local coordinate helper
    boxes: dict = {}
    x0, y0, x1, y1 = scene.layout["panel"]
    d.rectangle([*px(x0, y0), *px(x1, y1)], fill=scene.panel, outline=(40, 40, 40), width=max(2, W // 500))
    shade = tuple(max(0, c - 25) for c in scene.panel)
    for i in range(6):  # vent slots along the bottom
        yy = y1 - 0.06 + i * 0.008
        d.rectangle([*px(x0 + 0.05, yy), *px(x0 + 0.25, yy + 0.003)], fill=shade)
    for cx, cy in (
        (x0 + 0.015, y0 + 0.02),
        (x1 - 0.015, y0 + 0.02),
        (x0 + 0.015, y1 - 0.02),
        (x1 - 0.015, y1 - 0.02),
    ):
        r = 0.006 * W
        d.ellipse([cx * W - r, cy * H - r, cx * W + r, cy * H + r], fill=(120, 120, 120), outline=(50, 50, 50))
    font_small = ImageFont.truetype(FONT_SANS, max(8, int(0.018 * H)))
    d.text(px(x0 + 0.03, y0 + 0.03), "CLOSELOOP  XR-200", font=font_small, fill=(30, 30, 30))
    # Indicator lamps with labels; emission drives the glow and clipping of lit lamps.
    lamp_r = 0.014 * W
    for i, lamp in enumerate(scene.lamps):
        cx, cy = (x0 + 0.06 + i * 0.06) * W, (y0 + 0.14) * H
        col = np.array(LAMP_COLOURS[lamp.colour], np.float32)
        lens = tuple(int(v) for v in (col * 0.35 + 25))
        d.ellipse(
            [cx - lamp_r * 1.35, cy - lamp_r * 1.35, cx + lamp_r * 1.35, cy + lamp_r * 1.35],
            fill=(25, 25, 25),
        )
        d.ellipse([cx - lamp_r, cy - lamp_r, cx + lamp_r, cy + lamp_r], fill=lens)
        if lamp.on:
            d.ellipse([cx - lamp_r, cy - lamp_r, cx + lamp_r, cy + lamp_r], fill=tuple(int(v) for v in col))
            e.ellipse(
                [cx - lamp_r * 0.8, cy - lamp_r * 0.8, cx + lamp_r * 0.8, cy + lamp_r * 0.8],
                fill=tuple(int(min(255, v * 0.9 + 60)) for v in col),
            )
        d.text((cx - lamp_r, cy + lamp_r * 1.6), lamp.name, font=font_small, fill=(30, 30, 30))
        boxes[f"lamp:{lamp.name}"] = (
            (cx - 1.7 * lamp_r) / W,
            (cy - 1.7 * lamp_r) / H,
            (cx + 1.7 * lamp_r) / W,
            (cy + 1.7 * lamp_r) / H,
        )
    # Serial plate: brushed-metal label with the model and the serial number.
    sx0, sy0, sx1, sy1 = x1 - 0.23, y0 + 0.08, x1 - 0.03, y0 + 0.2
    d.rectangle([*px(sx0, sy0), *px(sx1, sy1)], fill=(205, 205, 198), outline=(90, 90, 90), width=2)
    font_plate = ImageFont.truetype(FONT_MONO, max(10, int(0.028 * H)))
    d.text(px(sx0 + 0.01, sy0 + 0.012), "MODEL XR-200", font=font_plate, fill=(25, 25, 30))
    d.text(px(sx0 + 0.01, sy0 + 0.062), f"S/N {scene.serial}", font=font_plate, fill=(25, 25, 30))
    boxes["serial"] = (sx0, sy0, sx1, sy1)
    # Meter display.
    mx0, my0, mx1, my1 = x0 + 0.05, y0 + 0.27, x0 + 0.27, y0 + 0.35
    bg, fg = ((150, 168, 138), (20, 25, 20)) if scene.meter_style == "lcd" else ((18, 14, 14), (255, 70, 40))
    d.rectangle([*px(mx0, my0), *px(mx1, my1)], fill=bg, outline=(30, 30, 30), width=3)
    font_meter = ImageFont.truetype(FONT_MONO, max(10, int(0.05 * H)))
    d.text(px(mx0 + 0.015, my0 + 0.012), scene.meter, font=font_meter, fill=fg)
    if scene.meter_style == "led":
        e.text(px(mx0 + 0.015, my0 + 0.012), scene.meter, font=font_meter, fill=(90, 30, 20))
    boxes["meter"] = (mx0, my0, mx1, my1)
    # Breaker bank: toggles up (on) or down (off).
    bx, by = x0 + 0.33, y0 + 0.28
    for i, on in enumerate(scene.breakers):
        left = (bx + i * 0.028) * W
        d.rectangle([left, by * H, left + 0.02 * W, (by + 0.11) * H], fill=(235, 235, 230), outline=(60, 60, 60))
        ty = by + (0.015 if on else 0.06)
        d.rectangle([left + 0.005 * W, ty * H, left + 0.015 * W, (ty + 0.035) * H], fill=(30, 30, 30))
    # Warning sticker, spare module, optional maintenance tag, cable.
    if scene.sticker:
        tx, ty = x0 + 0.38, y0 + 0.46
        d.polygon(
            [px(tx, ty + 0.09), px(tx + 0.05, ty), px(tx + 0.1, ty + 0.09)],
            fill=(250, 210, 0),
            outline=(0, 0, 0),
        )
        d.text(px(tx + 0.043, ty + 0.03), "!", font=font_plate, fill=(0, 0, 0))
    module_col = [(60, 90, 160), (40, 130, 70), (150, 60, 50)][scene.module % 3]
    d.rectangle([*px(x0 + 0.05, y0 + 0.42), *px(x0 + 0.16, y0 + 0.54)], fill=module_col, outline=(20, 20, 20), width=2)
    if scene.tag:
        d.rectangle([*px(x1 - 0.16, y0 + 0.36), *px(x1 - 0.07, y0 + 0.48)], fill=(250, 250, 245), outline=(120, 0, 0))
        d.text(px(x1 - 0.15, y0 + 0.38), "SERVICED", font=font_small, fill=(150, 0, 0))
    cable_col = [(20, 20, 20), (200, 60, 20), (30, 70, 180)][scene.cable % 3]
    cx = x1 - 0.2 + 0.06 * (scene.cable % 3)
    d.line(
        [px(cx, y1 - 0.1), px(cx + 0.02, y1 + 0.02), px(cx - 0.05, 1.0)],
        fill=cable_col,
        width=max(4, W // 120),
    )
    # Surface micro-texture (paint orange-peel, powder coat, dust, paper fibre) at the finest scale the
    # camera resolves. It belongs to the scene, so two exposures of it correlate in their finest detail
    # just as two copies of one exposure do: the sensor grain alone cannot tell a re-shot from a copy.
    micro = cv2.GaussianBlur(rng.standard_normal((H, W), dtype=np.float32), (0, 0), 0.8) * 0.09
    out = np.asarray(img).astype(np.float32) * (1 + micro[..., None])
    return np.clip(out, 0, 255).astype(np.uint8), np.asarray(emit), boxes


@dataclass
class Shot:
    pose: np.ndarray  # 3x3 homography: canvas pixels -> photo pixels
    gain: float = 1.0
    gamma: float = 1.0
    wb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    noise: float = 2.5
    quality: int = 92
    blur: float = 0.7  # lens/motion softness, Gaussian sigma in px of a 1152-px-wide photo
    light: tuple[float, float, float] = (0.0, 0.0, 0.0)  # illumination gradient x, y and vignetting
    # Another phone: its noise is spatially correlated by demosaicing/denoising (grain size, px sigma),
    # part of it is colour noise, and its pipeline sharpens (unsharp-mask amount).
    grain: float = 0.0
    chroma: float = 0.0
    sharpen: float = 0.0


def other_camera(shot: Shot, rng: np.random.Generator) -> Shot:
    """The same moment photographed with a different phone: other noise and grain, sharpening, JPEG
    quality and auto-exposure."""
    wb = tuple(float(v) for v in rng.uniform(0.92, 1.08, 3))
    return replace(
        shot,
        gain=float(np.clip(shot.gain * rng.uniform(0.7, 1.3), 0.4, 1.0 / max(wb))),
        gamma=float(rng.uniform(0.85, 1.2)),
        wb=wb,
        noise=float(rng.uniform(1.0, 6.0)),
        quality=int(rng.integers(70, 96)),
        blur=float(rng.uniform(0.4, 1.5)),
        grain=float(rng.uniform(0.0, 1.2)),
        chroma=float(rng.uniform(0.0, 0.5)),
        sharpen=float(rng.uniform(0.0, 0.8)),
    )


def random_shot(pose: np.ndarray, rng: np.random.Generator) -> Shot:
    """A phone's choices for one exposure. Auto-exposure keeps diffuse white (reflectance ~0.98) just
    below clipping, hence gain <= 1 / white balance."""
    wb = tuple(float(v) for v in rng.uniform(0.95, 1.05, 3))
    light = (float(rng.uniform(-0.15, 0.15)), float(rng.uniform(-0.15, 0.15)), float(rng.uniform(0, 0.2)))
    return Shot(
        pose,
        gain=rng.uniform(0.72, 1.0) / max(wb),
        gamma=rng.uniform(0.9, 1.1),
        wb=wb,
        noise=rng.uniform(1.5, 4),
        quality=int(rng.integers(85, 96)),
        blur=rng.uniform(0.5, 1.3),
        light=light,
    )


def base_pose(canvas: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    s = size[0] / (canvas[0] * (1 - 2 * MARGIN))
    return np.array([[s, 0, -MARGIN * canvas[0] * s], [0, s, -MARGIN * canvas[1] * s], [0, 0, 1]], np.float64)


def jitter(
    pose: np.ndarray,
    size: tuple[int, int],
    rng: np.random.Generator,
    rot_deg: float,
    shift: float,
    scale: float,
    tilt: float,
) -> np.ndarray:
    """Move the camera: rotate/scale about the image centre, shift, and tilt (perspective)."""
    w, h = size
    a = math.radians(rng.uniform(-rot_deg, rot_deg))
    s = 1 + rng.uniform(-scale, scale)
    c = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]])
    rs = np.array([[s * math.cos(a), -s * math.sin(a), 0], [s * math.sin(a), s * math.cos(a), 0], [0, 0, 1]])
    t = np.array([[1, 0, rng.uniform(-shift, shift) * w], [0, 1, rng.uniform(-shift, shift) * h], [0, 0, 1]])
    p = np.eye(3)
    p[2, 0], p[2, 1] = rng.uniform(-tilt, tilt) / w, rng.uniform(-tilt, tilt) / h
    return t @ c @ p @ rs @ np.linalg.inv(c) @ pose


def rotate_about_centre(pose: np.ndarray, size: tuple[int, int], angle_deg: float) -> np.ndarray:
    w, h = size
    a = math.radians(angle_deg)
    c = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]])
    r = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    return c @ r @ np.linalg.inv(c) @ pose


def photograph(
    refl: np.ndarray,
    emit: np.ndarray,
    shot: Shot,
    size: tuple[int, int],
    rng: np.random.Generator,
    exif: Image.Exif,
) -> bytes:
    w, h = size
    flags, border = cv2.INTER_LINEAR, cv2.BORDER_REFLECT
    img = cv2.warpPerspective(refl, shot.pose, (w, h), flags=flags, borderMode=border).astype(np.float32)
    glow = cv2.warpPerspective(emit, shot.pose, (w, h), flags=flags, borderMode=border).astype(np.float32)
    # Uneven light (window on one side, vignetting) multiplies reflected light, not the lamps' own.
    yy, xx = np.mgrid[0:1:33j, 0:1:33j]
    gx, gy, vig = shot.light
    field = 1 + gx * (xx - 0.5) + gy * (yy - 0.5) - vig * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2
    img *= cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    k = max(3, int(0.012 * w) | 1)
    img += glow * 2.2 + cv2.GaussianBlur(glow, (k * 4 + 1, k * 4 + 1), 0) * 1.5
    img *= np.array(shot.wb, np.float32) * shot.gain / 255.0
    np.clip(img, 0, 1, out=img)
    img **= 1 / shot.gamma
    img = cv2.GaussianBlur(img, (0, 0), shot.blur * w / 1152)
    sigma = (shot.noise + 4.0 * np.sqrt(img)) / 255.0  # read noise + shot noise
    if shot.grain > 0 or shot.chroma > 0:
        noise = rng.standard_normal(img.shape, dtype=np.float32)
        if shot.chroma < 1:  # luminance part shared by the three channels, the rest per channel
            shared = rng.standard_normal(img.shape[:2], dtype=np.float32)[..., None]
            noise = noise * math.sqrt(shot.chroma) + shared * math.sqrt(1 - shot.chroma)
        if shot.grain > 0:
            noise = cv2.GaussianBlur(noise, (0, 0), shot.grain) * (1 + 2 * shot.grain)
        img += noise * sigma
    else:
        img += rng.standard_normal(img.shape, dtype=np.float32) * sigma
    if shot.sharpen > 0:
        img += shot.sharpen * (img - cv2.GaussianBlur(img, (0, 0), 1.2))
    out = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "JPEG", quality=shot.quality, exif=exif)
    return buf.getvalue()


@dataclass
class Pair:
    kind: str
    mp: int
    before: bytes
    after: bytes
    context: CompareContext
    truth: dict[str, bool]


def mutate(scene: Scene, kind: str, rng: np.random.Generator) -> Scene:
    after = replace(scene, lamps=[replace(lamp) for lamp in scene.lamps], breakers=list(scene.breakers))
    if kind in ("lamp_change", "reshot_tripod"):
        for i in rng.choice(len(after.lamps), 1 if kind == "reshot_tripod" else int(rng.integers(1, 3)), False):
            lamp = after.lamps[i]
            if lamp.on and rng.random() < 0.5:
                lamp.colour = str(rng.choice([c for c in LAMP_COLOURS if c != lamp.colour]))
            else:
                lamp.on = not lamp.on
    elif kind == "serial_change":
        if rng.random() < 0.5:
            while after.serial == scene.serial:
                after.serial = random_serial(rng)
        else:  # the replacement unit is from the same batch: one or two characters differ
            digits = scene.serial[-5:]
            after.serial = scene.serial[:-5] + f"{(int(digits) + int(rng.integers(1, 40))) % 100000:05d}"
    elif kind == "meter_change":
        whole = int(scene.meter[:5]) + int(rng.integers(1, 2000))
        after.meter = f"{whole % 100000:05d}.{rng.integers(0, 10)}"
    elif kind == "changed_region":
        what = str(rng.choice(CHANGES))
        if what == "sticker":
            after.sticker = not scene.sticker
        elif what == "cable":
            after.cable = scene.cable + int(rng.integers(1, 3))
        elif what == "breakers":
            for i in rng.choice(len(after.breakers), min(len(after.breakers), 2), False):
                after.breakers[i] = not after.breakers[i]
        elif what == "tag":
            after.tag = not scene.tag
        else:
            after.module = scene.module + int(rng.integers(1, 3))
    return after


def region_in_photo(
    box: tuple[float, float, float, float], canvas: tuple[int, int], pose: np.ndarray, size: tuple[int, int]
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    pts = np.array(
        [
            [
                [x0 * canvas[0], y0 * canvas[1]],
                [x1 * canvas[0], y0 * canvas[1]],
                [x1 * canvas[0], y1 * canvas[1]],
                [x0 * canvas[0], y1 * canvas[1]],
            ]
        ],
        np.float64,
    )
    q = cv2.perspectiveTransform(pts, pose)[0]
    xs, ys = np.clip(q[:, 0] / size[0], 0, 1), np.clip(q[:, 1] / size[1], 0, 1)
    return (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))


def make_pair(kind: str, mp: int, seed: int) -> Pair:
    rng = np.random.default_rng(seed)
    size = SIZES[mp]
    canvas = (int(size[0] / (1 - 2 * MARGIN)), int(size[1] / (1 - 2 * MARGIN)))
    scene = random_scene(rng, seed)
    after_scene = mutate(scene, kind, rng)
    refl, emit, boxes = render(scene, canvas)
    pose0 = jitter(base_pose(canvas, size), size, rng, 3, 0.02, 0.03, 0.02)
    before_shot = random_shot(pose0, rng)
    tripod = kind in ("reshot_tripod", "nuisance_exposure")
    big = kind == "nuisance_motion"
    pose1 = (
        pose0
        if tripod
        else jitter(
            pose0,
            size,
            rng,
            6 if big else 3,
            0.05 if big else 0.03,
            0.08 if big else 0.05,
            0.05 if big else 0.03,
        )
    )
    after_shot = random_shot(pose1, rng)
    if kind == "reshot_angle":
        # The unchanged scene again, from a slightly different angle (0.2-7 degrees of roll, mild
        # perspective, a small step), by another phone: what a careful engineer's "after" photo of a
        # job that needed no visible change looks like, and what an independent review found flagged.
        angle = rng.uniform(0.2, 7.0) * rng.choice([-1.0, 1.0])
        pose1 = rotate_about_centre(jitter(pose0, size, rng, 0.0, 0.02, 0.04, 0.03), size, angle)
        after_shot = other_camera(random_shot(pose1, rng), rng)
    if kind == "nuisance_exposure":
        # Phone auto-exposure protects highlights: it brightens only until diffuse white (~0.96) clips.
        after_shot.wb = tuple(rng.uniform(0.92, 1.08, 3))
        brightest = 1.03 / (before_shot.gain * max(after_shot.wb))
        darker = rng.uniform(0.55, 0.85)
        after_shot.gain = before_shot.gain * (
            rng.uniform(1.15, brightest) if brightest > 1.2 and rng.random() < 0.5 else darker
        )
        after_shot.gamma = rng.uniform(0.8, 1.25)
    created = datetime(2025, 3, 1, 1, 0, tzinfo=UTC) + timedelta(minutes=int(rng.integers(0, 400_000)))
    local = lambda t: (t + timedelta(hours=8)).replace(tzinfo=None)  # noqa: E731 - site clock is UTC+8
    t_before = created + timedelta(minutes=rng.uniform(5, 60))
    t_after = t_before + timedelta(minutes=rng.uniform(10, 180))
    near = lambda: (SITE[0] + rng.normal(0, 0.0003), SITE[1] + rng.normal(0, 0.0003))  # noqa: E731 - ~30 m
    gps_after = near()
    if kind == "exif_time":
        t_after = (
            t_before - timedelta(minutes=rng.uniform(5, 3000))
            if rng.random() < 0.5
            else created - timedelta(minutes=rng.uniform(5, 600))
        )
    if kind == "exif_gps":
        bearing, dist_km = rng.uniform(0, 2 * math.pi), rng.uniform(2, 80)
        gps_after = (
            SITE[0] + dist_km / 111.0 * math.cos(bearing),
            SITE[1] + dist_km / (111.0 * math.cos(math.radians(SITE[0]))) * math.sin(bearing),
        )
    offset = "+08:00" if rng.random() < 0.5 else None
    before = photograph(refl, emit, before_shot, size, rng, build_exif(local(t_before), near(), None, offset))
    if kind == "reused_identical":
        after = before
    elif kind == "reencoded":
        after = reencode(before, rng)
    else:
        if after_scene != scene:
            refl, emit, _ = render(after_scene, canvas)
        after = photograph(refl, emit, after_shot, size, rng, build_exif(local(t_after), gps_after, None, offset))
    lamp_regions = [
        NamedRegion(k.split(":", 1)[1], region_in_photo(b, canvas, pose0, size))
        for k, b in boxes.items()
        if k.startswith("lamp:")
    ]
    ocr_regions = [
        NamedRegion("serial", region_in_photo(boxes["serial"], canvas, pose0, size), kind="serial"),
        NamedRegion("meter", region_in_photo(boxes["meter"], canvas, pose0, size), kind="meter"),
    ]
    context = CompareContext(
        ticket_created_at=created,
        site=SITE,
        lamp_regions=lamp_regions,
        ocr_regions=ocr_regions,
        timezone="Asia/Shanghai",
    )
    lamps_changed = [
        (a.on, a.on and a.colour) != (b.on, b.on and b.colour)
        for a, b in zip(scene.lamps, after_scene.lamps, strict=True)
    ]
    truth = {
        "duplicate": kind in ("reused_identical", "reencoded"),
        "changes": kind in ("changed_region", "lamp_change", "serial_change", "meter_change", "reshot_tripod"),
        "lamps": any(lamps_changed),
        "serial": after_scene.serial != scene.serial,
        "meter": after_scene.meter != scene.meter,
        "exif": kind in ("exif_time", "exif_gps"),
        "meter_values": (scene.meter, after_scene.meter),
        "serial_values": (scene.serial, after_scene.serial),
        "lamp_states": (
            [(x.on, x.colour) for x in scene.lamps],
            [(x.on, x.colour) for x in after_scene.lamps],
        ),
    }
    return Pair(kind, mp, before, after, context, truth)


def reencode(data: bytes, rng: np.random.Generator) -> bytes:
    img = Image.open(io.BytesIO(data))
    exif = img.getexif() if rng.random() < 0.5 else None
    img = img.convert("RGB")
    if rng.random() < 0.5:
        w, h = img.size
        c = rng.uniform(0, 0.04, 4)
        img = img.crop((int(c[0] * w), int(c[1] * h), int(w - c[2] * w), int(h - c[3] * h)))
    f = rng.uniform(0.4, 0.9)
    img = img.resize((int(img.width * f), int(img.height * f)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(60, 91)), **({"exif": exif} if exif else {}))
    return buf.getvalue()
