"""The customer's service confirmation and its signature stamp as PDFs: data in, bytes out.

Every text arrives already in the customer's language (``processes.documents`` translates), so this module
only lays it out.  Chinese needs a CJK font: the stylesheet names WenQuanYi Zen Hei (Debian's
fonts-wqy-zenhei), which WeasyPrint finds through fontconfig.  The page is A4 with large type and one
column, so it stays readable when a phone's PDF viewer fits it to the screen width.  The bottom of the page
is left empty for the signature stamp, which :func:`stamp` renders on a transparent A4 page of its own and
:func:`signed` lays over the original page, so the bytes the customer reviewed stay visible unchanged.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import qrcode  # type: ignore[import-untyped]
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

HERE = Path(__file__).resolve().parent
_jinja = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
# Compiled once, on import: the lifecycle runs the handler where no code may be compiled
# (tests/engine/test_no_python.py); Jinja keeps them while the files are unchanged.
_CONFIRMATION = _jinja.get_template("confirmation.html")
_STAMP = _jinja.get_template("stamp.html")


@dataclass(frozen=True)
class Letterhead:
    company: str
    address: str = ""
    phone: str = ""
    logo_png: bytes | None = None  # the company logo, PNG bytes (read by the caller from settings)


@dataclass(frozen=True)
class Confirmation:
    lang: str  # the HTML lang attribute: "zh-Hans" or "en"
    title: str
    letterhead: Letterhead
    facts: list[tuple[str, str]]  # (label, value) in reading order: ticket number, problem, window, engineer...
    portal_url: str
    labels: dict[str, str]  # qr, signature, version, generated
    version: int
    generated: str  # when, already formatted in the plant's time zone


@dataclass(frozen=True)
class Stamp:
    lang: str
    labels: dict[str, str]  # title, signer, time, ip, sha256, version
    signer: str
    signed_at: str
    ip: str
    sha256: str  # of the document signed
    version: int
    signature_png: bytes


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` with a quiet zone wide enough for phone cameras and decoders."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html(doc: Confirmation) -> str:
    logo = _data_uri(doc.letterhead.logo_png) if doc.letterhead.logo_png else None
    return _CONFIRMATION.render(d=doc, logo=logo, qr=_data_uri(qr_png(doc.portal_url)))


def _pdf(source: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=source, base_url=str(HERE)).write_pdf()
    return pdf


def render(doc: Confirmation) -> bytes:
    """The confirmation as PDF bytes (one A4 page)."""
    return _pdf(html(doc))


def stamp(mark: Stamp) -> bytes:
    """The signature stamp alone: a transparent A4 page with the box where the confirmation leaves room."""
    return _pdf(_STAMP.render(s=mark, signature=_data_uri(mark.signature_png)))


def signed(original: bytes, mark: Stamp) -> bytes:
    """``original`` with the stamp laid over its last page; every other page unchanged."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    overlay = PdfReader(io.BytesIO(stamp(mark))).pages[0]
    writer.pages[-1].merge_page(overlay)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
