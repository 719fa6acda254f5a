"""64-bit DCT perceptual hash, and the index used to find a photo already used on another ticket.

The hash survives re-encoding, resizing and mild exposure edits (small Hamming distance) but not a
different view; it says "looks the same", never "is the same moment": that is decided by the duplicate
check together with the local-change analysis.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import cv2
import numpy as np
from scipy.fft import dctn


def phash(grey: np.ndarray) -> int:
    """Hash of an upright greyscale image (any size, uint8 or float)."""
    small = cv2.resize(np.asarray(grey, np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = dctn(small, norm="ortho")[:8, :8].ravel()
    # The DC term only encodes mean brightness; excluding it from the median keeps exposure changes out.
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def phash_hex(value: int) -> str:
    return f"{value:016x}"


def phash_from_hex(text: str) -> int:
    return int(text, 16)


@runtime_checkable
class PerceptualIndex(Protocol):
    def add(self, key: str, phash: int) -> None: ...

    def near(self, phash: int, max_distance: int) -> list[str]: ...


class InMemoryPerceptualIndex:
    """Linear scan: fine for tests and small sites; a DB-backed index can bucket by hash bands."""

    def __init__(self) -> None:
        self._items: dict[str, int] = {}

    def add(self, key: str, phash: int) -> None:
        self._items[key] = phash

    def near(self, phash: int, max_distance: int) -> list[str]:
        hits = [(hamming(phash, h), k) for k, h in self._items.items() if hamming(phash, h) <= max_distance]
        return [k for _, k in sorted(hits)]

    def __len__(self) -> int:
        return len(self._items)
