"""Signals sent by order services after commit (CONVENTIONS.md: no post_save logic).

- order_created(order_id, organization_id, order): an order was created and committed.
  `order` is the instance the create wrote (with its workflow and organization). Dispatch
  auto-dispatches it when the routing settings say so.
"""

from django.dispatch import Signal

order_created = Signal()
