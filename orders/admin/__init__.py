"""The back office of `orders`: one module per subject, each registering its ModelAdmins when
Django's admin autodiscovery imports this package.

- organizations: organizations (memberships and API tokens are in accounts.admin)
- workflows: workflows (steps and custom fields inline), order tags
- files: files, their bytes and thumbnails
- orders: the order list and page; actions: the order page's buttons and bulk cancel

Every admin is tenant-scoped (accounts.admin_base) and writes through the same services as
the API.
"""

from orders.admin import files, orders, organizations, workflows

__all__ = ["files", "orders", "organizations", "workflows"]
