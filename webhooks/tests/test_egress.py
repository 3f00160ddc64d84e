"""Webhooks go to public addresses only (webhooks/egress.py), unless
WEBHOOK_ALLOW_PRIVATE_TARGETS: a tenant's endpoint URL must not make the server reach, and show
the tenant, what only the server can reach (SSRF). Checked where the URL is saved (an address
literal, localhost) and where a delivery connects (every address the name resolves to)."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from webhooks import egress, services

pytestmark = pytest.mark.django_db

GUARDED = override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "not an address",
    ],
)
def test_addresses_that_are_not_public(address):
    assert not egress.is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2001:4860:4860::8888"])
def test_public_addresses(address):
    assert egress.is_public(address)


@GUARDED
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://localhost:8000/hooks",
        "http://api.localhost/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/internal",
        "https://[::1]/hooks",
        "http://[::ffff:192.168.0.1]/hooks",
        "http://0.0.0.0/",
    ],
)
def test_an_endpoint_at_a_private_address_is_400_and_not_saved(admin_a, url):
    response = admin_a.post("/api/v1/webhooks", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "Bad Request" or body["statusCode"] == 400
    assert "url" in body["details"]
    assert admin_a.get("/api/v1/webhooks").json()["count"] == 0


@GUARDED
def test_an_update_to_a_private_address_is_400(admin_a):
    created = admin_a.post("/api/v1/webhooks", {"url": "https://hooks.example.com/in"}, format="json")
    assert created.status_code == 201, created.content  # a name: resolved only when delivering
    endpoint_id = created.json()["id"]
    response = admin_a.patch(f"/api/v1/webhooks/{endpoint_id}", {"url": "http://127.0.0.1/"}, format="json")
    assert response.status_code == 400
    assert admin_a.get(f"/api/v1/webhooks/{endpoint_id}").json()["url"] == "https://hooks.example.com/in"


def test_allowed_when_the_setting_is_on(admin_a):
    # The suite's setting (WEBHOOK_ALLOW_PRIVATE_TARGETS=True), as with DEBUG.
    assert admin_a.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/x"}, format="json").status_code == 201


@GUARDED
def test_a_delivery_to_a_private_address_sends_nothing(receiver, caplog):
    """A name saved while it resolved elsewhere, or an endpoint saved with the guard off: the
    connection refuses it, the receiver on 127.0.0.1 gets nothing, the attempt says why. The
    address goes to the log only: the attempt's error is shown to the organization."""
    result = services.post(receiver.url, b"{}", {"Content-Type": "application/json"}, timeout=2)
    assert receiver.hits == []
    assert result.status_code is None
    assert result.error.startswith("BlockedAddress") and "no public address" in result.error
    assert "resolves to no public address (127.0.0.1)" in caplog.text
    by_name = services.post(receiver.url.replace("127.0.0.1", "localhost"), b"{}", {}, timeout=2)
    assert receiver.hits == [] and by_name.error.startswith("BlockedAddress")
    over_tls = services.post("https://localhost:1/hooks", b"{}", {}, timeout=2)
    assert over_tls.error.startswith("BlockedAddress")  # before any TLS handshake


@GUARDED
def test_the_connection_goes_to_the_address_that_was_checked(receiver, monkeypatch):
    """A name with a private and an allowed address: the private one is dropped and the socket
    connects to the allowed one, not to whatever the name resolves to next (DNS rebinding).
    Here 127.0.0.1 stands for a public address and 10.9.9.9 for a private one."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    resolved = []

    def getaddrinfo(host, *args, **kwargs):
        resolved.append(host)
        assert host == "hooks.rebind.test"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.9.9.9", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(egress.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(egress, "is_public", lambda address: address == "127.0.0.1")
    result = services.post(f"http://hooks.rebind.test:{port}/hooks", b'{"a": 1}', {}, timeout=2)
    assert result.status_code == 200, result
    assert resolved == ["hooks.rebind.test"]  # resolved once, by the guard
    assert [hit.headers["host"] for hit in receiver.hits] == [f"hooks.rebind.test:{port}"]

    monkeypatch.setattr(egress, "is_public", lambda address: False)
    blocked = services.post(f"http://hooks.rebind.test:{port}/hooks", b"{}", {}, timeout=2)
    assert blocked.error.startswith("BlockedAddress") and "10.9.9.9" not in blocked.error
    assert len(receiver.hits) == 1
