"""Domain errors raised by account services (installer.errors' categories)."""

from installer.errors import Conflict, Forbidden, InvalidInput, NotFound


class InvalidRole(InvalidInput):
    """The role does not exist, or not in this kind of organization (technician: installers only)."""


class InvitationInvalid(NotFound):
    """The invitation link is unknown, expired, used or revoked: the same answer for each."""


class NotAllowed(Forbidden):
    """The caller's role does not allow the change."""


__all__ = ["Conflict", "Forbidden", "InvalidInput", "InvalidRole", "InvitationInvalid", "NotAllowed", "NotFound"]
