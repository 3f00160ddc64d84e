"""Every Orders API route, for tests that must cover all of them (auth, roles, tenancy)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {order} and {tag} placeholders
    body: dict | None = None

    @property
    def writes(self) -> bool:
        return self.method in ("post", "put", "patch", "delete")

    @property
    def on_order(self) -> bool:
        return "{order}" in self.path

    def url(self, order="00000000-0000-0000-0000-000000000000", tag="00000000-0000-0000-0000-000000000000") -> str:
        return "/api/v1/" + self.path.format(order=order, tag=tag)

    def call(self, client, **ids):
        kwargs = {"format": "json"} if self.body is not None else {}
        args = (self.body,) if self.body is not None else ()
        return getattr(client, self.method)(self.url(**ids), *args, **kwargs)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


ROUTES = [
    Route("get", "order"),
    Route(
        "post",
        "order",
        {
            "address": "Storgata 1",
            "city": "Oslo",
            "postalCode": "0155",
            "countryCode": "NO",
            "email": "kari@example.com",
            "phoneNumber": "+4791234567",
            "contactPersonName": "Kari",
        },
    ),
    Route("get", "order/{order}"),
    Route("patch", "order/{order}", {"name": "changed"}),
    Route("get", "order/{order}/events"),
    Route("post", "order/{order}/cancel", {"reason": "other"}),
    Route("post", "order/{order}/steps/received/complete"),
    Route("put", "order/{order}/tags/{tag}"),
    Route("delete", "order/{order}/tags/{tag}"),
    Route("get", "order-tags"),
    Route("post", "order-tags", {"name": "New"}),
    Route("get", "workflows"),
]
