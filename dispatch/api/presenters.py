"""The JSON objects of the dispatch API (API.md): offers and installer partners."""

from __future__ import annotations

from typing import Any

from dispatch.models import Offer, Partnership


def offer_to_dict(offer: Offer, *, with_order: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": offer.id,
        "orderId": offer.order_id,
        "installer": {"id": offer.installer.id, "name": offer.installer.name},
        "status": offer.status,
        "rank": offer.rank,
        "score": offer.score,
        "reason": offer.reason,
        "declineReason": offer.decline_reason or None,
        "sentAt": offer.sent_at,
        "expiresAt": offer.expires_at,
        "respondedAt": offer.responded_at,
    }
    if with_order:
        order = offer.order
        # The job summary only: no customer name, email, phone or street address.
        data["order"] = {
            "id": order.id,
            "displayId": order.display_id,
            "name": order.name,
            "city": order.city,
            "postalCode": order.postal_code,
            "countryCode": order.country_code,
            "status": order.status,
            "statusName": order.status_name,
        }
    return data


def partnership_to_dict(p: Partnership) -> dict[str, Any]:
    installer = p.installer
    return {
        "id": installer.id,
        "name": installer.name,
        "email": installer.email or None,
        "phoneNumber": installer.phone_number or None,
        "active": p.active,
        "priority": p.priority,
        "capacity": p.capacity,
        "skills": p.skills or [],
        "coverage": [
            {
                "kind": a.kind,
                "countryCode": a.country_code or None,
                "value": a.value or None,
                "valueTo": a.value_to or None,
                "radiusKm": a.radius_km,
            }
            for a in p.coverage.all()
        ],
    }
