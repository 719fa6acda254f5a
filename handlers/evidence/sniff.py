"""Identify a file from its bytes, and compare that with what the client claims it is.

The claim (content-type header, file name) is attacker-controlled and often wrong, so the bytes decide;
the claim only matters to refuse files that lie about themselves.
"""

from __future__ import annotations

from pathlib import PurePath

# Media types we accept, and the families used to judge whether a claim is a lie. MP4 and QuickTime are
# one family: phones label MOV files .mp4 and vice versa, and both are ISO-BMFF read by the same demuxer.
ACCEPTED_IMAGE_TYPES = ("image/jpeg", "image/png", "image/heic")
ACCEPTED_VIDEO_TYPES = ("video/mp4", "video/quicktime")

_FAMILY = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/heic": "heif",
    "video/mp4": "isovideo",
    "video/quicktime": "isovideo",
}

_MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/heif": "image/heic",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heic",
    "video/x-m4v": "video/mp4",
    "video/mov": "video/quicktime",
}

_EXTENSIONS = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".jfif": "image/jpeg",
    ".png": "image/png",
    ".heic": "image/heic",
    ".heif": "image/heic",
    ".hif": "image/heic",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".qt": "video/quicktime",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".exe": "application/x-msdownload",
    ".pdf": "application/pdf",
}

# Claims that say nothing about the content.
_UNINFORMATIVE = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_ISO_VIDEO_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def detect_type(head: bytes) -> str:
    """Best-effort MIME type from the first bytes (64 are plenty); ``application/octet-stream`` if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[4:8] == b"ftyp":
        return _iso_bmff_type(head)
    if head[4:8] in _ISO_VIDEO_BOXES:
        return "video/quicktime"  # pre-ftyp QuickTime files start directly with an atom
    for magic, mime in (
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"BM", "image/bmp"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"%PDF", "application/pdf"),
        (b"MZ", "application/x-msdownload"),
        (b"\x7fELF", "application/x-executable"),
        (b"PK\x03\x04", "application/zip"),
    ):
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return "application/octet-stream"


def _iso_bmff_type(head: bytes) -> str:
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    # Compatible brands follow the minor version; only look inside the ftyp box we were given.
    end = min(len(head), size if 16 <= size <= 256 else len(head))
    brands = {major} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _AVIF_BRANDS and not brands & (_HEIF_BRANDS - {b"mif1", b"msf1"}):
        return "image/avif"
    if major in _HEIF_BRANDS or (brands & _HEIF_BRANDS and major not in {b"isom", b"mp41", b"mp42", b"qt  "}):
        return "image/heic"
    if major == b"qt  ":
        return "video/quicktime"
    return "video/mp4"


def normalise_mime(content_type: str | None) -> str:
    if not content_type:
        return ""
    mime = content_type.split(";", 1)[0].strip().lower()
    return _MIME_ALIASES.get(mime, mime)


def declared_types(filename: str | None, content_type: str | None) -> list[str]:
    """The informative claims, normalised: at most one from the header, one from the extension."""
    claims = []
    mime = normalise_mime(content_type)
    if mime not in _UNINFORMATIVE:
        claims.append(mime)
    if filename:
        ext = PurePath(filename).suffix.lower()
        if ext in _EXTENSIONS:  # unknown suffixes (".tmp", ".upload") claim nothing
            claims.append(_EXTENSIONS[ext])
    return claims


def claim_contradicts(claim: str, detected: str) -> bool:
    fam_claim = _FAMILY.get(claim, claim)
    fam_detected = _FAMILY.get(detected, detected)
    return fam_claim != fam_detected
