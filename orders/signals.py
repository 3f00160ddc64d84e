"""Custom signals sent by order services after commit (CONVENTIONS.md: no post_save logic).

- order_created(order_id, organization_id): e.g. dispatch auto-dispatches.
- order_transitioned(order_id, from_status, to_status, event_type).
"""

from django.dispatch import Signal

order_created = Signal()
order_transitioned = Signal()
