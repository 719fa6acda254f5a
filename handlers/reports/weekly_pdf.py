"""The weekly service report as a PDF (WeasyPrint + Jinja): data in, bytes out.

Everything the page says arrives already in the reader's language (``processes.kpi.weekly`` translates),
so this module only lays it out.  Chinese needs a CJK font: the stylesheet asks for WenQuanYi Zen Hei
(Debian's fonts-wqy-zenhei, installed by ``make test``'s browser step) and falls back to Noto CJK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

HERE = Path(__file__).resolve().parent
_jinja = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]), undefined=StrictUndefined)


@dataclass(frozen=True)
class Figure:
    label: str
    pct: float | None
    num: int
    den: int
    reference: float | None = None


@dataclass(frozen=True)
class HeatMap:
    columns: list[str]
    rows: list[tuple[str, list[int]]]

    @property
    def most(self) -> int:
        return max((n for _, counts in self.rows for n in counts), default=0)

    def level(self, count: int) -> int:
        """0 for none, else 1-5 by the share of the busiest cell."""
        most = self.most
        return 0 if count <= 0 or most <= 0 else min(5, 1 + int(4 * count / most))


@dataclass(frozen=True)
class WeeklyReport:
    lang: str  # the HTML lang attribute, e.g. "zh-Hans" or "en"
    title: str
    subtitle: str
    labels: dict[str, str]  # headings and column names: figures, figure, pct, num, den, reference, ...
    figures: list[Figure]
    facts: list[tuple[str, str]]
    heat: HeatMap
    findings: list[str]
    causes: list[tuple[str, int, float]]
    footer: str = ""
    notes: list[str] = field(default_factory=list)


def html(report: WeeklyReport) -> str:
    return _jinja.get_template("weekly.html").render(r=report)


def render(report: WeeklyReport) -> bytes:
    """The report as PDF bytes."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=html(report), base_url=str(HERE)).write_pdf()
    return pdf
