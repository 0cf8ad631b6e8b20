"""What may be attached, what it is served as, and how names and sizes are shown.

The served content type is decided here at upload, from the extension, and for the types
that have a signature (images, PDF, ZIP and Office files) only if the first bytes agree; the
client's Content-Type header is never read.
"""

import mimetypes
import os
import re

from django.conf import settings

# Served types of the default allow-list; an extension added through ATTACHMENT_TYPES that is
# not here gets Python's `mimetypes` answer, or application/octet-stream.
CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".eml": "message/rfc822",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Never, whatever ATTACHMENT_TYPES says: a browser runs the scripts these can carry.
FORBIDDEN = frozenset({".svg", ".svgz", ".html", ".htm", ".xhtml", ".xht", ".xml", ".xsl",
                       ".js", ".mjs", ".swf"})
# Shown inline (a preview in the timeline); everything else is only ever downloaded.
PREVIEWABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# What the first bytes of a file of each type start with, and the name people know it by.
SIGNATURES: dict[str, tuple[tuple[bytes, ...], str]] = {
    "image/png": ((b"\x89PNG\r\n\x1a\n",), "PNG image"),
    "image/jpeg": ((b"\xff\xd8\xff",), "JPEG image"),
    "image/gif": ((b"GIF87a", b"GIF89a"), "GIF image"),
    "image/webp": ((), "WebP image"),  # RIFF....WEBP: checked in `looks_like`
    "application/pdf": ((), "PDF document"),  # %PDF- within the first KiB: `looks_like`
    "application/zip": (_ZIP, "ZIP archive"),
    CONTENT_TYPES[".docx"]: (_ZIP, "Word document"),
    CONTENT_TYPES[".xlsx"]: (_ZIP, "Excel workbook"),
}
HEAD_BYTES = 1024


def extensions() -> list[str]:
    """The allowed extensions (".png"), from ATTACHMENT_TYPES, forbidden ones left out."""
    return [ext for ext in (normal_extension(e) for e in settings.ATTACHMENT_TYPES)
            if ext and ext not in FORBIDDEN]


def normal_extension(value: str) -> str:
    value = value.strip().lower()
    return value if not value or value.startswith(".") else f".{value}"


def content_type_for(extension: str) -> str:
    known = CONTENT_TYPES.get(extension)
    if known:
        return known
    guessed, _ = mimetypes.guess_type(f"file{extension}", strict=False)
    return guessed or "application/octet-stream"


def looks_like(content_type: str, head: bytes) -> bool:
    """Whether a file's first bytes fit its type (types without a signature always do)."""
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if content_type == "application/pdf":
        return b"%PDF-" in head[:HEAD_BYTES]
    if content_type not in SIGNATURES:
        return True
    return head.startswith(SIGNATURES[content_type][0])


def type_label(content_type: str) -> str:
    return SIGNATURES.get(content_type, ((), content_type))[1]


def accept_attribute() -> str:
    """The file input's `accept`: the allowed extensions (the server checks again)."""
    return ",".join(extensions())


def clean_name(raw) -> str:
    """The base name of a client's file name, without control or format characters (NUL,
    bidirectional overrides), trimmed; "" when nothing usable is left (empty, only dots)."""
    name = re.split(r"[/\\]", str(raw or ""))[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if not name.strip(". "):
        return ""
    stem, ext = os.path.splitext(name)
    if len(name) > 255:  # keep the extension: it decides the type
        name = stem[: 255 - len(ext)] + ext
    return name


def storage_name(name: str) -> str:
    """A name safe on any file system and in object keys: letters, digits, `-_.`; short."""
    stem, ext = os.path.splitext(name)
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.ASCII).strip("-.") or "file"
    ext = re.sub(r"[^\w.]+", "", ext, flags=re.ASCII)
    return stem[:80] + ext[:20]


def human_size(size: int) -> str:
    """12.3 MB, 4 KB, 512 bytes (binary multiples, as the limits are set)."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f}".removesuffix(".0") + f" {unit}"
    raise AssertionError("unreachable")
