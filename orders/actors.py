"""Who did something: written on every timeline event."""

from __future__ import annotations

from dataclasses import dataclass

from orders.models import ActorType


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorType.SYSTEM, "", label)

    @classmethod
    def for_token(cls, token) -> Actor:
        return cls(ActorType.API_TOKEN, str(token.pk), token.name)

    @classmethod
    def for_user(cls, user) -> Actor:
        return cls(ActorType.USER, str(user.pk), user.get_username())

    @classmethod
    def for_webform(cls, webform) -> Actor:
        return cls(ActorType.WEBFORM, str(webform.pk), getattr(webform, "title", "") or str(webform))

    def as_dict(self) -> dict:
        return {"type": self.type, "id": self.id or None, "label": self.label}
