"""Where the application's files live, for modules that must not import the platform wiring."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
