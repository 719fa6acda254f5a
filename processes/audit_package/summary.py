"""The package's summary for a person: which tickets, how many journal rows, the heads, the diagrams and
files, and how to verify it.  Every label is in Chinese and English side by side, since the package
leaves the system and its reader's language is not known."""

from __future__ import annotations

from html import escape
from typing import Any

from ..tickets.models import Ticket

_STYLE = """
body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif; font-size: 10pt; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 14pt; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #999; padding: 2pt 4pt; }
code { font-size: 7.5pt; word-break: break-all; }
"""


def summary_pdf(manifest: dict[str, Any], tickets: list[Ticket]) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=summary_html(manifest, tickets)).write_pdf()
    return pdf


def summary_html(manifest: dict[str, Any], tickets: list[Ticket]) -> str:
    by_number = {t.number: t for t in tickets}
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>".format(
            escape(i["ticket"]),
            escape(by_number[i["ticket"]].problem_description if i["ticket"] in by_number else ""),
            escape(i["status"]),
            i["rows"],
            escape(i["journal_head"]),
        )
        for i in manifest["instances"]
    )
    diagrams = "".join(
        f"<tr><td><code>{escape(h)}</code></td><td>{escape(', '.join(sorted(files)))}</td></tr>"
        for h, files in manifest["diagrams"].items()
    )
    signed = (
        "已签名：包含签名检查点和公钥 / Signed: the signed checkpoints and the public key are included"
        if manifest["signed"]
        else "未签名：没有检查点密钥 / Not signed: no checkpoint key is configured"
    )
    included = sum(1 for f in manifest["files"] if f["included"])
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{_STYLE}</style></head><body>
<h1>审计包 / Audit package</h1>
<p>生成时间 / Created: {escape(manifest["created_at"])}</p>
<p>{signed}</p>
<h2>工单与日志 / Tickets and journals</h2>
<table><tr><th>工单 / Ticket</th><th>问题描述 / Problem</th><th>状态 / Status</th><th>日志行 / Rows</th>
<th>日志末端哈希 / Journal head</th></tr>{rows}</table>
<h2>流程图 / Diagrams</h2>
<table><tr><th>部署哈希 / Deployment hash</th><th>文件 / Files</th></tr>{diagrams}</table>
<h2>证据文件 / Evidence files</h2>
<p>{len(manifest["files"])} 个文件的 SHA-256，其中 {included} 个文件附在包内 /
SHA-256 of {len(manifest["files"])} file(s), {included} of them included.</p>
<h2>如何验证 / How to verify</h2>
<p><code>closeloop audit verify --package FILE</code>：无需数据库；任何修改都会被指出 /
needs no database; any change is named.</p>
</body></html>"""
