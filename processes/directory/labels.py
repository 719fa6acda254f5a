"""Printable QR labels for devices: the code a phone scans at intake is the device's ``qr_code``."""

from __future__ import annotations

from handlers.documents.confirmation import qr_png


def device_qr_png(qr_code: str) -> bytes:
    """The PNG of a device's QR value, the same rendering the customer confirmation's link QR uses."""
    return qr_png(qr_code)
