"""Test helpers for uploads: sample files of each kind, and a multipart body streamed from disk
(so a 20 MB or 26 MB upload never sits in the test's memory either)."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from pathlib import Path

from PIL import Image

CHUNK = 1024 * 1024


def jpeg_bytes(size=(64, 48), color=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_bytes(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 255)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


def odt_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    return out.getvalue()


def ole_bytes(marker: bytes) -> bytes:
    """An OLE compound file header with `marker` where Word (or Excel) puts its own."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + marker + b"\x00" * 1500


def heic_bytes() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + os.urandom(2000)


def mz_bytes() -> bytes:
    return (
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 52 + b"\x80\x00\x00\x00" + b"This program cannot be run in DOS mode"
    )


def write_multipart(
    path: Path, *, filename: str, size: int | None = None, content: bytes | None = None, fields=None
) -> tuple[str, int]:
    """Writes a multipart/form-data body with one `file` part to `path`, streaming `size` bytes of a
    JPEG-headed payload (or `content`). Returns (content type, body length)."""
    boundary = uuid.uuid4().hex
    with open(path, "wb") as out:
        for key, value in (fields or {}).items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        if content is not None:
            out.write(content)
        else:
            head = jpeg_bytes()
            out.write(head)
            left = (size or 0) - len(head)
            block = b"\xa5" * CHUNK
            while left > 0:
                out.write(block[: min(CHUNK, left)])
                left -= CHUNK
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", path.stat().st_size


def post_streamed(client, path: Path, content_type: str, length: int):
    """POSTs a multipart body from a file on disk to /api/v1/file without loading it."""
    with open(path, "rb") as body:
        return client.generic(
            "POST",
            "/api/v1/file",
            data=b"",
            content_type=content_type,
            **{"wsgi.input": body, "CONTENT_LENGTH": str(length), "CONTENT_TYPE": content_type},
        )
