"""What several commands share: the platform built from the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from processes.platform import Platform


def build() -> Platform:
    from processes.platform import Settings, build_platform

    return build_platform(Settings.from_env())
