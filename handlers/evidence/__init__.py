"""Evidence layer: media intake and automatic before/after photo comparison (plain Python, no web/DB).

Intake:      ``inspect_media(source, filename=, content_type=, expect=, limits=)`` -> AcceptedImage |
             AcceptedVideo, or raises ``MediaRejected(code, params)`` (codes in ``errors``).
Comparison:  ``compare(before_bytes, after_bytes, CompareContext(...))`` -> ComparisonReport;
             ``compare_files(before_path, after_path, **context)`` -> JSON-ready dict (CLI).
"""

from .compare import compare, compare_files
from .context import CompareContext, NamedRegion, Thresholds
from .errors import MEDIA_REJECTION_CODES, MediaRejected
from .media import AcceptedImage, MediaLimits, inspect_image, inspect_media
from .phash import InMemoryPerceptualIndex, PerceptualIndex
from .report import ComparisonReport, Finding, Region
from .video import AcceptedVideo, inspect_video

__all__ = [
    "MEDIA_REJECTION_CODES",
    "AcceptedImage",
    "AcceptedVideo",
    "CompareContext",
    "ComparisonReport",
    "Finding",
    "InMemoryPerceptualIndex",
    "MediaLimits",
    "MediaRejected",
    "NamedRegion",
    "PerceptualIndex",
    "Region",
    "Thresholds",
    "compare",
    "compare_files",
    "inspect_image",
    "inspect_media",
    "inspect_video",
]
