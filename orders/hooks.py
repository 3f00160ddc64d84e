"""Where other apps act on orders. `orders` imports none of them: each app that needs one of
these plugs in from its `AppConfig.ready()`.

Inside the order's transaction (one function each, set with `Hook.set`; unset, a hook does
nothing and returns its default):

- `events_notify(events)`: right after a change's events are inserted, with the order row
  locked and the change's other rows written (but a create's number, taken after it).
  Notifications plans the messages the events trigger (Message rows and their tasks), so a
  rolled-back change plans nothing.
- `events_recorded(events)`: after `events_notify`, as the change's last write (a create's
  number included). Webhooks writes its outbox rows here, with the order as the change leaves
  it, so a rolled-back change sends nothing.
- `order_cancelling(order=, actor=, pending=)`: in `order_cancel`, with the order locked,
  before it is saved. Dispatch withdraws the open offers and removes the booking.
- `order_deleting(order=, actor=, pending=)`: in `order_delete`, with the order locked, before
  it is saved. Dispatch withdraws the open offers and removes the booking.
- `order_completing(order=, actor=, pending=)`: in `order_complete`, with the order locked,
  after the move to completed and before it is saved. Invoicing records the delivered lines
  (the accepted quote's chosen lines) and the completion time.
- `installer_assignable(router, installer_id) -> bool`: whether a create may pre-assign the
  order to that installer organization (`actorAssignments`). Dispatch: an active partnership.

On reads (no writes, no per-order queries):

- `installer_visibility(viewer) -> Q | None`: more orders an installer organization may read
  than the ones assigned to it. Dispatch: the orders it holds an open or accepted offer for.
- `order_reads(queryset, viewer) -> queryset`: the joins and prefetches other apps' parts of
  the order object need (dispatch: the booking, and an installer's own open offers).
- `extra_actions(order, viewer) -> list[str]`: more `allowedActions` for a viewer that may
  write, read from what `order_reads` loaded. Dispatch: "accept" and "decline".
- `installer_timeline(order, events, viewer) -> list[(event, data)]`: the events of an order's
  timeline that an installer organization which does not own the order may read, each with the
  `data` it may read (a constant number of queries). Dispatch: its own offers' events and the
  order-level ones, without other installers' names, offers or decline reasons. Unset, every
  event is shown with its data.

After commit (a signal, `orders.signals.order_created`): an order was created. Dispatch
auto-dispatches it when the routing settings say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    """One function that another app sets at startup. Calling the hook calls it, or returns
    `default` when no app has set one."""

    def __init__(self, name: str, default: Any = None) -> None:
        self.name = name
        self.default = default
        self.function: Callable[..., Any] | None = None

    def set(self, function: Callable[..., Any] | None) -> None:
        """Sets the hook's function (None unsets it). Setting another function while one is set
        is an error: each hook has one owner."""
        if function is not None and self.function is not None and self.function is not function:
            raise RuntimeError(f"orders.hooks.{self.name} is already set to {self.function!r}.")
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.function is None:
            return self.default
        return self.function(*args, **kwargs)

    def __bool__(self) -> bool:
        return self.function is not None


events_recorded = Hook("events_recorded")
events_notify = Hook("events_notify")
order_cancelling = Hook("order_cancelling")
order_deleting = Hook("order_deleting")
order_completing = Hook("order_completing")
installer_assignable = Hook("installer_assignable", default=True)
installer_visibility = Hook("installer_visibility")
order_reads = Hook("order_reads")
extra_actions = Hook("extra_actions", default=[])
installer_timeline = Hook("installer_timeline")
