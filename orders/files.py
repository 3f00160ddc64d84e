"""Uploaded files: what a file is (by its bytes, never its name), where it is kept, who may read it.

Guarantees:
- The type is sniffed from the content (`filetype` for binary formats, a strict UTF-8 check for
  text); the client's file name and declared type are never trusted. Anything not on the
  allowlist is refused with 415.
- The storage key is generated (`<organization id>/<file id>`); the client's name is kept only as
  cleaned display text.
- Nothing here reads a whole upload into memory: size, sha256 and the text check run over
  chunks, the storage backend moves (local disk) or streams (S3) the temporary file.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.files.uploadhandler import FileUploadHandler
from django.db import transaction
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect
from django.utils.http import content_disposition_header

from accounts.models import Organization
from installer.errors import InvalidInput, TooLarge, UnsupportedType
from orders import services, transitions
from orders.actors import Actor
from orders.exceptions import Conflict, OrderValidationError
from orders.models import File, Order
from orders.selectors import forget_relations

# Content types accepted, by what `filetype` recognises -> the type stored and served.
BINARY_TYPES: dict[str, str] = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/apng": "image/png",  # an animated PNG is a valid PNG
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "image/heic": "image/heic",
    "application/pdf": "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    "application/vnd.oasis.opendocument.text": "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet": "application/vnd.oasis.opendocument.spreadsheet",
    "application/msword": "application/msword",
    "application/vnd.ms-excel": "application/vnd.ms-excel",
}
TEXT_TYPES = ("text/plain", "text/csv")
ALL_TYPES = tuple(dict.fromkeys([*BINARY_TYPES.values(), *TEXT_TYPES]))

CHUNK_SIZE = 256 * 1024
SNIFF_BYTES = 8192
NAME_MAX_LENGTH = 200
# Multipart framing around the file (boundaries, part headers, an `orderId` field) on top of
# FILE_MAX_SIZE before Content-Length alone says "too large".
MULTIPART_SLACK = 16 * 1024

# C0 controls other than tab, line feed, form feed and carriage return, and DEL.
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def max_size() -> int:
    return settings.FILE_MAX_SIZE


def allowed_types() -> tuple[str, ...]:
    return tuple(settings.FILE_ALLOWED_TYPES) or ALL_TYPES


def clean_name(raw: str | None) -> str:
    """Display text from a client's file name: the last path component (either separator), no
    control or format characters, NFC, at most NAME_MAX_LENGTH characters keeping the extension."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "file"
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: NAME_MAX_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:NAME_MAX_LENGTH]
    return name


@dataclass(frozen=True)
class Inspection:
    size: int
    sha256: str
    content_type: str


def inspect(content, *, name: str = "") -> Inspection:
    """Size, sha256 and the content type of a Django `File`, read in chunks.

    Raises UnsupportedType when the content is not on the allowlist, TooLarge past
    FILE_MAX_SIZE and InvalidInput when it is empty.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    is_text = True
    limit = max_size()
    for chunk in content.chunks(CHUNK_SIZE):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The file is larger than {limit} bytes.", extra={"maxSize": limit})
        digest.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        if is_text:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_text = False
            else:
                is_text = _TEXT_CONTROL.search(chunk) is None
    if size == 0:
        raise InvalidInput("The file is empty.", details={"file": ["The submitted file is empty."]})
    kind = filetype.guess(head)
    content_type: str | None = None
    if kind is not None:
        content_type = BINARY_TYPES.get(kind.mime)
    elif is_text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_text = False
        else:
            content_type = "text/csv" if name.lower().endswith(".csv") else "text/plain"
    if content_type is None or content_type not in allowed_types():
        found = kind.mime if kind is not None else "unrecognised binary data"
        raise UnsupportedType(
            f"This type of file is not accepted ({found}). Accepted: images, PDF, office documents, plain text.",
            extra={"allowedTypes": list(allowed_types())},
        )
    return Inspection(size=size, sha256=digest.hexdigest(), content_type=content_type)


def file_storage() -> Storage:
    return storages["default"]


def storage_key(organization_id: Any, file_id: Any) -> str:
    return f"{organization_id}/{file_id}"


class MaxSizeUploadHandler(FileUploadHandler):
    """First in the chain: refuses an upload by its Content-Length before reading any of it, and
    stops reading as soon as one file passes FILE_MAX_SIZE (so nothing larger reaches the disk)."""

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = max_size() if limit is None else limit
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + MULTIPART_SLACK:
            raise TooLarge(f"The file is larger than {self.limit} bytes.", extra={"maxSize": self.limit})
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise TooLarge(f"The file is larger than {self.limit} bytes.", extra={"maxSize": self.limit})
        return raw_data

    def file_complete(self, file_size):
        return None


def _order_for_upload(organization: Organization, order_id: Any) -> Order:
    from orders.selectors import parse_uuid

    pk = parse_uuid(order_id)
    order = Order.objects.filter(organization=organization, pk=pk).first() if pk is not None else None
    if order is None:
        raise OrderValidationError("orderId: unknown order.", details={"orderId": ["No order with this id."]})
    if order.status in transitions.TERMINAL:
        raise Conflict(f"Files cannot be added to a {order.status_name} order.")
    return order


def file_upload(*, organization: Organization, content, actor: Actor, name: str = "", order_id: Any = None) -> File:
    """Checks, stores and records an upload (a Django `File`, e.g. an `UploadedFile`).

    With `order_id` (an order of `organization`, not completed or cancelled) the file is attached
    to it under the order's lock and the timeline gets `order.updated` naming `files`. The bytes
    are written before the row; if the row cannot be written, the stored object is deleted.
    """
    if order_id not in (None, ""):
        _order_for_upload(organization, order_id)
    display_name = clean_name(name or getattr(content, "name", ""))
    info = inspect(content, name=display_name)
    file_id = uuid.uuid4()
    storage = file_storage()
    # The storage backend takes the type from the object it saves (S3 ContentType): the sniffed one.
    content.content_type = info.content_type
    content.seek(0)
    key = storage.save(storage_key(organization.pk, file_id), content)
    try:
        with transaction.atomic():
            order = None
            if order_id not in (None, ""):
                order = services.lock_order(order_id, organization=organization)
                if order.status in transitions.TERMINAL:
                    raise Conflict(f"Files cannot be added to a {order.status_name} order.")
            file = File.objects.create(
                id=file_id,
                organization=organization,
                order=order,
                storage_key=key,
                name=display_name,
                content_type=info.content_type,
                size=info.size,
                sha256=info.sha256,
                uploaded_by=(actor.label or actor.type)[:200],
            )
            if order is not None:
                forget_relations(order, "file_list")
                pending = services.PendingEvents(order)
                pending.add(
                    "order.updated",
                    actor,
                    data={"fields": ["files"], "fileIds": [str(file_id)]},
                    from_status=order.status,
                    to_status=order.status,
                )
                services.finish_change(order, pending)
    except BaseException:
        storage.delete(key)
        raise
    return file


def file_delete(*, file: File) -> None:
    """Deletes the row and, once that is committed, the stored bytes."""
    key = file.storage_key
    with transaction.atomic():
        file.delete()
        transaction.on_commit(lambda: file_storage().delete(key))


def file_response(file: File) -> HttpResponseBase:
    """The bytes of a file as an attachment with its stored type. With S3 (unless
    S3_PROXY_DOWNLOADS) a redirect to a short-lived pre-signed URL that carries the same headers."""
    storage = file_storage()
    disposition = content_disposition_header(True, file.name)
    if settings.FILES_PRESIGNED_REDIRECT:
        url = storage.url(  # type: ignore[call-arg]  # S3Storage takes these
            file.storage_key,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": file.content_type},
            expire=settings.S3_PRESIGNED_EXPIRY,
        )
        response: HttpResponseBase = HttpResponseRedirect(url)
    else:
        response = FileResponse(
            storage.open(file.storage_key, "rb"), as_attachment=True, filename=file.name, content_type=file.content_type
        )
        response["Content-Length"] = str(file.size)
        response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
