"""The company letterhead on customer documents (issue 11 §2), from settings like the notification providers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DocumentSettings:
    # The letterhead in both languages; the document takes the customer's.
    company_zh: str = "闭环设备服务有限公司"
    company_en: str = "Closeloop Field Service Co., Ltd."
    address_zh: str = ""
    address_en: str = ""
    phone: str = ""
    # A PNG logo (a path on the server); None prints the letterhead without one.
    logo: Path | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DocumentSettings:
        """``CLOSELOOP_DOC_`` + a field name in capitals, e.g. ``CLOSELOOP_DOC_COMPANY_ZH``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in ("company_zh", "company_en", "address_zh", "address_en", "phone"):
            if env.get(f"CLOSELOOP_DOC_{name.upper()}"):
                values[name] = env[f"CLOSELOOP_DOC_{name.upper()}"]
        if env.get("CLOSELOOP_DOC_LOGO"):
            values["logo"] = Path(env["CLOSELOOP_DOC_LOGO"])
        return cls(**values)  # type: ignore[arg-type]
