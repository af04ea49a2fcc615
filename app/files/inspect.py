"""What a file's bytes are, decided from the bytes alone (never the name or the declared type),
and the re-encoding of images. Pure functions of bytes: CPU-bound, so callers run them in a
thread (`asyncio.to_thread`), and a worker can call them as they are."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.files import rules

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage


class Refused(ValueError):
    """The bytes are not an acceptable file of the purpose; the message says why."""


@dataclass(frozen=True)
class Inspected:
    content_type: str
    data: bytes  # what is stored: the upload itself, or an image re-encoded without metadata
    pages: int | None = None
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def sniff(data: bytes) -> str | None:
    """The content type the magic bytes announce, among those the service accepts."""
    if data.startswith(b"%PDF-"):
        return rules.PDF
    if data.startswith(b"PK\x03\x04"):
        return rules.DOCX  # a zip: inspect_docx decides whether it is a Word document
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return rules.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return rules.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return rules.WEBP
    return None


def inspect(data: bytes, rule: rules.PurposeRule, declared: str) -> Inspected:
    kind = sniff(data)
    if kind is None or kind not in rule.content_types:
        allowed = ", ".join(sorted(rules.EXTENSIONS[t].upper() for t in rule.content_types))
        raise Refused(f"The file is not one of {allowed} (judged by its content).")
    if kind != declared:
        raise Refused(f"The file was announced as {declared} but its content is {kind}.")
    if kind == rules.PDF:
        _check_not_html(data)
        return Inspected(kind, data, pages=_check_pdf(data))
    if kind == rules.DOCX:
        _check_docx(data)
        return Inspected(kind, data)
    return _reencode(data, kind)


# Tags a browser would render as a page: a PDF that carries them is a polyglot made to be
# opened as something else. Whole tags only (a delimiter after the name): short names alone
# turn up by chance in megabytes of compressed streams.
_HTML_MARKERS = re.compile(rb"<(?:html|script|body|iframe|!doctype)[\s>/]", re.IGNORECASE)


def _check_not_html(data: bytes) -> None:
    if _HTML_MARKERS.search(data):
        raise Refused("The PDF also contains HTML; save it again as a plain PDF.")


def _check_pdf(data: bytes) -> int:
    """The page count of a readable PDF without active content."""
    # Imported on the first PDF, not at boot: the worker's start-up does not pay for pypdf.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
        active = _active_content(reader.trailer)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise Refused("The PDF cannot be read.") from None
    if active is not None:
        raise Refused(f"The PDF contains {active}; save it again without it.")
    if pages < 1:
        raise Refused("The PDF has no pages.")
    if pages > rules.MAX_PDF_PAGES:
        raise Refused(f"The PDF has {pages} pages; at most {rules.MAX_PDF_PAGES} are accepted.")
    return pages


# What a reader runs or opens on its own: scripts, launched programs, files carried inside.
_ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "an action that launches a program"}
_ACTIVE_KEYS = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/EmbeddedFiles": "embedded files",
    "/EF": "embedded files",
}


def _active_content(root: object) -> str | None:
    """What active content is reachable from the trailer (the catalog's names and actions,
    pages, annotations, forms), or None. Walks every object once, without recursion (a
    hostile PDF nests deeply); stream contents are not decoded."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NullObject

    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for key in item:
                if key in _ACTIVE_KEYS:
                    return _ACTIVE_KEYS[key]
            action, subtype = (item.get(k, NullObject()).get_object() for k in ("/S", "/Subtype"))
            if action in _ACTIVE_ACTIONS:
                return _ACTIVE_ACTIONS[str(action)]
            if subtype == "/FileAttachment":
                return "a file attachment"
            stack.extend(value for key, value in item.items() if key != "/Parent")
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


# A zip can expand far beyond its own size: refuse archives that claim to.
_MAX_DOCX_EXPANDED = 50 * rules.MB
_MAX_DOCX_ENTRIES = 2000


def _check_docx(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Refused("The DOCX file is not a readable archive.") from None
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        raise Refused("The archive is not a Word (DOCX) document.")
    if len(entries) > _MAX_DOCX_ENTRIES or sum(e.file_size for e in entries) > _MAX_DOCX_EXPANDED:
        raise Refused("The DOCX file expands to too much data.")


_PIL_FORMATS = {rules.PNG: "PNG", rules.JPEG: "JPEG", rules.WEBP: "WEBP"}


def _reencode(data: bytes, kind: str) -> Inspected:
    # Imported on the first image, not at boot: the worker's start-up does not pay for Pillow.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as source:
            width, height = source.size
            if width < 1 or height < 1 or width * height > rules.MAX_IMAGE_PIXELS:
                raise Refused(
                    f"The image is {width}x{height} pixels; at most "
                    f"{rules.MAX_IMAGE_PIXELS:,} pixels are accepted."
                )
            source.load()
            # Turned upright by its EXIF orientation, then saved without any metadata.
            image = ImageOps.exif_transpose(source)
    except Refused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Refused("The image cannot be decoded.") from None
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert(
            "RGBA" if "transparency" in image.info or "A" in image.mode else "RGB"
        )
    image.thumbnail((rules.MAX_IMAGE_SIDE, rules.MAX_IMAGE_SIDE))
    thumbnail = image.copy()
    thumbnail.thumbnail((rules.THUMBNAIL_SIDE, rules.THUMBNAIL_SIDE))
    return Inspected(
        kind,
        _encode(image, kind),
        width=image.width,
        height=image.height,
        thumbnail=_encode(thumbnail, kind),
    )


def _encode(image: PILImage, kind: str) -> bytes:
    if kind == rules.JPEG and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    # A fresh save writes no EXIF, XMP or text chunks unless they are passed in.
    image.save(out, format=_PIL_FORMATS[kind], **({"quality": 85} if kind != rules.PNG else {}))
    return out.getvalue()
