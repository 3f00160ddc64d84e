"""Dispatch in the back office.

- partners: partnerships (coverage inline), offers, dispatch runs, bookings
- orders: the order admin with dispatch's buttons ("Dispatch…", "Book / rebook…", "Unbook…",
  "Start…", "Complete…"), the list action "Dispatch selected orders", the booking column and the
  order page's "Dispatch" section. It subclasses orders' OrderAdmin and registers the subclass
  for Order in its place, so the order admin a user sees is `dispatch.admin.orders.OrderAdmin`.
"""

from dispatch.admin import orders, partners

__all__ = ["orders", "partners"]
