"""The S3 backend against an S3-compatible server that the test starts on 127.0.0.1 (moto)."""

from __future__ import annotations

import hashlib

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from orders.models import File
from orders.tests import filekit
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db

BUCKET = "installer-files"
CREDENTIALS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "region_name": CREDENTIALS["region_name"],
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": None,
                "querystring_expire": 60,
                "file_overwrite": False,
            },
        },
    }
    settings.FILES_PRESIGNED_REDIRECT = True
    settings.S3_PRESIGNED_EXPIRY = 60
    settings.MEDIA_ROOT = tmp_path / "media"
    return boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # talk to 127.0.0.1 directly, whatever proxy the environment names
    return session


def test_upload_and_presigned_download(operator_a, s3_storage, settings, tmp_path):
    content = filekit.jpeg_bytes(size=(320, 240))
    response = operator_a.post(
        "/api/v1/file", {"file": SimpleUploadedFile("../Site photo.jpg", content, "text/html")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    file_id = response.json()["id"]
    assert response.json()["name"] == "Site photo.jpg"
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()

    # Key layout: <organization id>/<file id>, nothing of the client's name; the stored type is the sniffed one.
    key = f"{operator_a.org.pk}/{file_id}"
    assert File.objects.get(pk=file_id).storage_key == key
    listed = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET, Prefix=str(operator_a.org.pk))["Contents"]]
    assert listed == [key]
    head = s3_storage.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == len(content)
    assert not (tmp_path / "media").exists()  # nothing went to the local disk

    operator_a.post("/api/v1/order", order_payload(fileIds=[file_id]), format="json")
    redirect = operator_a.get(f"/api/v1/file/{file_id}/content")
    assert redirect.status_code == 302
    location = redirect["Location"]
    assert location.startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    assert "X-Amz-Expires=60" in location and "X-Amz-Signature=" in location
    fetched = _http().get(location, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="Site photo.jpg"'
    # The signature covers the key: another key with the same query string is refused.
    tampered = location.replace(file_id, "00000000-0000-0000-0000-000000000000")
    assert _http().get(tampered, timeout=10).status_code == 403


def test_streamed_download_and_large_upload(operator_a, s3_storage, settings, tmp_path):
    """S3_PROXY_DOWNLOADS: the app streams the object itself; a multi-part sized upload works."""
    settings.FILES_PRESIGNED_REDIRECT = False
    content_type, length = filekit.write_multipart(tmp_path / "body", filename="big.jpg", size=12 * 1024 * 1024)
    response = filekit.post_streamed(operator_a, tmp_path / "body", content_type, length)
    assert response.status_code == 201, response.content
    body = response.json()
    download = operator_a.get(f"/api/v1/file/{body['id']}/content")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="big.jpg"'
    digest = hashlib.sha256()
    for chunk in download.streaming_content:
        digest.update(chunk)
    assert digest.hexdigest() == body["sha256"]


def test_row_failure_deletes_the_stored_object(operator_a, s3_storage, monkeypatch):
    from django.db import IntegrityError

    def fail(**kwargs):
        raise IntegrityError("simulated")

    before = s3_storage.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    monkeypatch.setattr(File.objects, "create", fail)
    response = operator_a.post(
        "/api/v1/file", {"file": SimpleUploadedFile("a.pdf", filekit.pdf_bytes())}, format="multipart"
    )
    assert response.status_code == 500 and response.json()["message"] == "Internal server error."
    assert s3_storage.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == before


def test_rejected_upload_leaves_no_object(operator_a, operator_b, s3_storage):
    before = s3_storage.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    bad = operator_a.post(
        "/api/v1/file", {"file": SimpleUploadedFile("photo.jpg", filekit.elf_bytes(), "image/jpeg")}, format="multipart"
    )
    assert bad.status_code == 415
    assert s3_storage.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == before
    file_id = operator_a.post(
        "/api/v1/file", {"file": SimpleUploadedFile("a.pdf", filekit.pdf_bytes())}, format="multipart"
    ).json()["id"]
    assert operator_b.get(f"/api/v1/file/{file_id}/content").status_code == 404
