"""Files: upload, attach through fileIds, download only by those allowed, limits, sniffing."""

from __future__ import annotations

import hashlib
import io
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from orders.files import clean_name
from orders.models import File, Order, OrderEvent, OrderStatus
from orders.tests import filekit
from orders.tests.factories import UserFactory, make_installer_partner, order_payload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, content: bytes, name: str = "photo.jpg", declared: str = "image/jpeg", **fields):
    return client.post(
        "/api/v1/file", {"file": SimpleUploadedFile(name, content, content_type=declared), **fields}, format="multipart"
    )


def body_bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# ---- the happy path ----------------------------------------------------------------------------


def test_upload_then_create_order_lists_file_and_content_is_identical(operator_a, media_root):
    content = filekit.jpeg_bytes()
    response = upload(operator_a, content, name="fuse box.jpg")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == body["fileId"]
    assert body["name"] == "fuse box.jpg"
    assert body["contentType"] == "image/jpeg"
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["orderId"] is None and body["createdAt"]

    created = operator_a.post("/api/v1/order", order_payload(fileIds=[body["id"]]), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["files"] == [
        {"id": body["id"], "name": "fuse box.jpg", "contentType": "image/jpeg", "size": len(content)}
    ]
    assert operator_a.get(f"/api/v1/file/{body['id']}").json()["orderId"] == created.json()["id"]

    download = operator_a.get(f"/api/v1/file/{body['id']}/content")
    assert download.status_code == 200
    assert body_bytes(download) == content
    assert download["Content-Type"] == "image/jpeg"
    assert download["Content-Disposition"] == 'attachment; filename="fuse box.jpg"'
    assert download["X-Content-Type-Options"] == "nosniff"
    # The bytes live under the generated key on the local disk.
    stored = File.objects.get(pk=body["id"])
    assert stored.storage_key == f"{operator_a.org.pk}/{body['id']}"
    assert (media_root / stored.storage_key).read_bytes() == content


@pytest.mark.parametrize(
    "content,name,expected",
    [
        (filekit.png_bytes(), "x.png", "image/png"),
        (filekit.pdf_bytes(), "offer.pdf", "application/pdf"),
        (filekit.docx_bytes(), "spec.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (filekit.odt_bytes(), "spec.odt", "application/vnd.oasis.opendocument.text"),
        (filekit.ole_bytes(b"\xec\xa5\xc1\x00"), "old.doc", "application/msword"),
        (filekit.heic_bytes(), "IMG_0001.HEIC", "image/heic"),
        ("Zählerstand,42\nfoo,bar\n".encode(), "readings.csv", "text/csv"),
        (b"Ring the bell twice.\n", "note", "text/plain"),
    ],
)
def test_allowed_types_are_recognised_by_content(operator_a, content, name, expected):
    response = upload(operator_a, content, name=name, declared="application/octet-stream")
    assert response.status_code == 201, response.content
    assert response.json()["contentType"] == expected


def test_upload_with_order_id_attaches_and_records_the_change(operator_a):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    response = upload(operator_a, filekit.pdf_bytes(), name="offer.pdf", orderId=order_id)
    assert response.status_code == 201, response.content
    file_id = response.json()["id"]
    assert response.json()["orderId"] == order_id
    order = operator_a.get(f"/api/v1/order/{order_id}").json()
    assert [f["id"] for f in order["files"]] == [file_id]
    event = OrderEvent.objects.filter(order_id=order_id).order_by("sequence").last()
    assert event.type == "order.updated"
    assert event.data == {"fields": ["files"], "fileIds": [file_id]}


def test_upload_with_order_id_of_another_org_is_400_and_stores_nothing(operator_a, operator_b, media_root):
    other_order = operator_b.post("/api/v1/order", order_payload(), format="json").json()["id"]
    response = upload(operator_a, filekit.pdf_bytes(), name="offer.pdf", orderId=other_order)
    assert response.status_code == 400
    assert response.json()["details"] == {"orderId": ["No order with this id."]}
    assert File.objects.count() == 0
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_update_order_file_ids_attaches_once(operator_a):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    file_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    response = operator_a.patch(f"/api/v1/order/{order_id}", {"fileIds": [file_id]}, format="json")
    assert response.status_code == 200, response.content
    assert [f["id"] for f in response.json()["files"]] == [file_id]
    events = list(OrderEvent.objects.filter(order_id=order_id, type="order.updated"))
    assert [e.data for e in events] == [{"fields": ["files"], "fileIds": [file_id]}]
    # Sending the same ids again changes nothing and writes no event.
    again = operator_a.patch(f"/api/v1/order/{order_id}", {"fileIds": [file_id]}, format="json")
    assert [f["id"] for f in again.json()["files"]] == [file_id]
    assert OrderEvent.objects.filter(order_id=order_id, type="order.updated").count() == 1


# ---- other organizations -----------------------------------------------------------------------


def test_file_of_another_org_in_file_ids_is_400_and_attaches_nothing(operator_a, operator_b):
    theirs = upload(operator_b, filekit.jpeg_bytes()).json()["id"]
    mine = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    response = operator_a.post("/api/v1/order", order_payload(fileIds=[mine, theirs]), format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"fileIds": [f"Unknown id {theirs}."]}
    assert Order.objects.count() == 0
    assert File.objects.filter(order__isnull=False).count() == 0

    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    patched = operator_a.patch(
        f"/api/v1/order/{order_id}", {"fileIds": [mine, theirs], "city": "Bergen"}, format="json"
    )
    assert patched.status_code == 400
    assert patched.json()["details"] == {"fileIds": [f"Unknown id {theirs}."]}
    assert File.objects.filter(order__isnull=False).count() == 0
    assert Order.objects.get(pk=order_id).city == "Oslo"


def test_content_and_metadata_are_404_to_every_other_org(operator_a, operator_b, installer_client):
    file_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    operator_a.post("/api/v1/order", order_payload(fileIds=[file_id]), format="json")
    for client in (operator_b, installer_client):
        for url in (f"/api/v1/file/{file_id}", f"/api/v1/file/{file_id}/content"):
            # Whatever the client accepts, the content endpoint's errors are JSON.
            response = client.get(url, HTTP_ACCEPT="image/jpeg" if url.endswith("content") else "*/*")
            assert response.status_code == 404, url
            assert response.json() == {"error": "Not Found", "message": "File not found.", "statusCode": 404}
    assert operator_a.get("/api/v1/file/not-a-uuid").status_code == 404


def test_assigned_installer_may_download(operator_a, installer_client, installer_org):
    make_installer_partner(operator_a.org, installer_org)
    content = filekit.pdf_bytes()
    file_id = upload(operator_a, content, name="plan.pdf").json()["id"]
    payload = order_payload(
        fileIds=[file_id], actorAssignments=[{"actorSlug": "installer", "organizationId": str(installer_org.pk)}]
    )
    assert operator_a.post("/api/v1/order", payload, format="json").status_code == 201
    assert installer_client.get(f"/api/v1/file/{file_id}").json()["name"] == "plan.pdf"
    download = installer_client.get(f"/api/v1/file/{file_id}/content")
    assert download.status_code == 200
    assert body_bytes(download) == content


# ---- limits and cleaning -----------------------------------------------------------------------


def test_26_mb_upload_is_413(operator_a, tmp_path):
    content_type, length = filekit.write_multipart(tmp_path / "body", filename="big.jpg", size=26 * MB)
    response = filekit.post_streamed(operator_a, tmp_path / "body", content_type, length)
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "Request Entity Too Large" and body["statusCode"] == 413
    assert body["maxSize"] == 25 * MB
    assert File.objects.count() == 0


def test_actual_size_is_checked_while_reading(operator_a, settings, media_root):
    """Content-Length within the slack: the upload handler stops at the limit itself."""
    settings.FILE_MAX_SIZE = 1000
    response = upload(operator_a, b"x" * 1001, name="a.txt")
    assert response.status_code == 413
    assert response.json()["message"] == "The file is larger than 1000 bytes."
    assert File.objects.count() == 0
    assert upload(operator_a, b"x" * 1000, name="a.txt").status_code == 201


@pytest.mark.parametrize("content", [filekit.elf_bytes(), filekit.mz_bytes(), bytes(range(256)) * 40])
def test_executable_renamed_photo_jpg_is_415(operator_a, content, media_root):
    response = upload(operator_a, content, name="photo.jpg", declared="image/jpeg")
    assert response.status_code == 415
    body = response.json()
    assert body["error"] == "Unsupported Media Type" and body["statusCode"] == 415
    assert "image/jpeg" in body["allowedTypes"]
    assert File.objects.count() == 0
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_allowlist_is_configurable(operator_a, settings):
    settings.FILE_ALLOWED_TYPES = ["application/pdf"]
    assert upload(operator_a, filekit.jpeg_bytes()).status_code == 415
    assert upload(operator_a, filekit.pdf_bytes(), name="a.pdf").status_code == 201


def test_path_name_is_stored_under_generated_key_and_shown_cleaned(operator_a, media_root):
    response = upload(operator_a, b"root:x:0:0\n", name="../../etc/passwd")
    assert response.status_code == 201, response.content
    file = File.objects.get(pk=response.json()["id"])
    assert response.json()["name"] == file.name == "passwd"
    assert file.storage_key == f"{operator_a.org.pk}/{file.pk}"
    stored = [p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()]
    assert stored == [file.storage_key]
    download = operator_a.get(f"/api/v1/file/{file.pk}/content")
    assert download["Content-Disposition"] == 'attachment; filename="passwd"'


@pytest.mark.parametrize(
    "raw,cleaned",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("a\x00b\r\nc\u202e.pdf", "abc.pdf"),
        ("   ", "file"),
        ("..", "file"),
        ("x" * 300 + ".jpeg", "x" * 195 + ".jpeg"),
    ],
)
def test_clean_name(raw, cleaned):
    assert clean_name(raw) == cleaned


def test_empty_file_is_400(operator_a):
    response = upload(operator_a, b"", name="empty.txt")
    assert response.status_code == 400
    assert response.json()["details"] == {"file": ["The submitted file is empty."]}


def test_20_mb_upload_does_not_grow_memory(operator_a, tmp_path):
    """Python allocations while the upload is received, checked, stored and recorded stay a few MB
    (they would be >= 20 MB if the body or the file were read into memory anywhere)."""
    content_type, length = filekit.write_multipart(tmp_path / "body", filename="big.jpg", size=20 * MB)
    tracemalloc.start()
    try:
        response = filekit.post_streamed(operator_a, tmp_path / "body", content_type, length)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.content
    assert response.json()["size"] == 20 * MB
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"


# ---- auth, roles, bad input, queries -----------------------------------------------------------


def test_viewer_cannot_upload(viewer_a):
    response = upload(viewer_a, filekit.jpeg_bytes())
    assert response.status_code == 403
    assert response.json() == {
        "error": "Forbidden",
        "message": "The 'viewer' role cannot make changes.",
        "statusCode": 403,
    }
    assert File.objects.count() == 0


def test_viewer_may_read(operator_a, viewer_a):
    file_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    assert viewer_a.get(f"/api/v1/file/{file_id}").json()["id"] == file_id


def test_no_token_is_401(anon, operator_a):
    response = anon.post("/api/v1/file", {"file": SimpleUploadedFile("a.jpg", filekit.jpeg_bytes())})
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401
    file_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    assert anon.get(f"/api/v1/file/{file_id}/content").status_code == 401


def test_no_file_field_is_400(operator_a):
    response = operator_a.post("/api/v1/file", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["details"] == {"file": ["No file was submitted."]}
    as_json = operator_a.post("/api/v1/file", {"name": "x"}, format="json")
    assert as_json.status_code == 400
    assert as_json.json()["details"] == {"file": ["No file was submitted."]}


def test_terminal_order_takes_no_files(operator_a):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    Order.objects.filter(pk=order_id).update(status=OrderStatus.CANCELLED)
    response = upload(operator_a, filekit.jpeg_bytes(), orderId=order_id)
    assert response.status_code == 409
    assert File.objects.count() == 0


def test_file_endpoint_query_counts(operator_a, django_assert_max_num_queries):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    with django_assert_max_num_queries(4):  # token, file row (+ savepoint pair on SQLite/PG)
        file_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    with django_assert_max_num_queries(10):  # + order check, lock, file, event, order save
        upload(operator_a, filekit.jpeg_bytes(), orderId=order_id)
    with django_assert_max_num_queries(2):
        assert operator_a.get(f"/api/v1/file/{file_id}").status_code == 200
    with django_assert_max_num_queries(2):
        assert operator_a.get(f"/api/v1/file/{file_id}/content").status_code == 200


# ---- admin ----------------------------------------------------------------------------------------


def test_admin_lists_files_with_image_thumbnails(client, operator_a, django_assert_max_num_queries):
    image_id = upload(operator_a, filekit.jpeg_bytes(size=(800, 600))).json()["id"]
    pdf_id = upload(operator_a, filekit.pdf_bytes(), name="a.pdf").json()["id"]
    user = UserFactory(username="root", is_superuser=True)
    client.force_login(user)
    thumb_url = reverse("admin:orders_file_thumbnail", args=[image_id])
    changelist = client.get(reverse("admin:orders_file_changelist"))
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert f'<img src="{thumb_url}"' in html
    assert reverse("admin:orders_file_thumbnail", args=[pdf_id]) not in html
    thumb = client.get(thumb_url)
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 160
    assert client.get(reverse("admin:orders_file_thumbnail", args=[pdf_id])).status_code == 404
    assert client.get(reverse("admin:orders_file_change", args=[image_id])).status_code == 200
    for _ in range(20):
        upload(operator_a, filekit.jpeg_bytes())
    with django_assert_max_num_queries(8):
        assert client.get(reverse("admin:orders_file_changelist")).status_code == 200


def test_admin_delete_removes_the_stored_bytes(client, operator_a, media_root, django_capture_on_commit_callbacks):
    file_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    key = File.objects.get(pk=file_id).storage_key
    assert (media_root / key).exists()
    client.force_login(UserFactory(username="root", is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:orders_file_delete", args=[file_id]), {"post": "yes"})
    assert response.status_code == 302
    assert not File.objects.filter(pk=file_id).exists()
    assert not (media_root / key).exists()


def test_admin_thumbnail_needs_staff(client, operator_a):
    image_id = upload(operator_a, filekit.jpeg_bytes()).json()["id"]
    response = client.get(reverse("admin:orders_file_thumbnail", args=[image_id]))
    assert response.status_code == 302 and "/login/" in response["Location"]
