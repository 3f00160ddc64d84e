"""Custom signals sent by order services after commit (CONVENTIONS.md: no post_save logic).

- order_created(order_id, organization_id, order): e.g. dispatch auto-dispatches. `order` is the
  instance the create wrote (with its workflow and organization), as of the commit.
- order_transitioned(order_id, from_status, to_status, event_type).
"""

from django.dispatch import Signal

order_created = Signal()
order_transitioned = Signal()
