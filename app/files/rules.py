"""What each purpose accepts: the one place the limits live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.files.models import Purpose

MB = 1_000_000

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"

# An announced upload may be completed within this time; afterwards it is cleaned up.
UPLOAD_TTL = timedelta(minutes=15)
# How long a private download link (a résumé) works.
DOWNLOAD_TTL = timedelta(minutes=5)

# Images: larger sides are scaled down, and more pixels than this are refused before decoding
# (a small PNG can claim a huge canvas: a decompression bomb).
MAX_IMAGE_SIDE = 2048
MAX_IMAGE_PIXELS = 40_000_000
THUMBNAIL_SIDE = 256
MAX_PDF_PAGES = 50

# Per account: files kept, uploads announced but not completed at once, and upload attempts.
MAX_READY_FILES = 20
MAX_PENDING_UPLOADS = 5
UPLOAD_ATTEMPTS = "30/hour"


@dataclass(frozen=True)
class PurposeRule:
    content_types: frozenset[str]
    max_size: int
    public: bool  # avatars and logos are public; a résumé is private

    @property
    def is_image(self) -> bool:
        return self.content_types <= IMAGE_TYPES


IMAGE_TYPES = frozenset({PNG, JPEG, WEBP})

RULES: dict[Purpose, PurposeRule] = {
    Purpose.RESUME: PurposeRule(frozenset({PDF, DOCX}), 5 * MB, public=False),
    Purpose.AVATAR: PurposeRule(IMAGE_TYPES, 2 * MB, public=True),
    Purpose.COMPANY_LOGO: PurposeRule(IMAGE_TYPES, 2 * MB, public=True),
}

EXTENSIONS = {PDF: "pdf", DOCX: "docx", PNG: "png", JPEG: "jpg", WEBP: "webp"}

# What an upload may send before the service knows its purpose (the filesystem backend reads
# the body before it looks the file up).
MAX_UPLOAD_SIZE = max(rule.max_size for rule in RULES.values())
