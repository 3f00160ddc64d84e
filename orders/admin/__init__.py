"""The back office of `orders`: one module per subject, each registering its ModelAdmins when
Django's admin autodiscovery imports this package.

- accounts: organizations, memberships, API tokens
- workflows: workflows (steps and custom fields inline), order tags
- files: files, their bytes and thumbnails
- orders: the order list and page; actions: the order page's buttons and bulk cancel

Every admin is tenant-scoped (installer.admin_tenancy) and writes through the same services as
the API.
"""

from orders.admin import accounts, files, orders, workflows

__all__ = ["accounts", "files", "orders", "workflows"]
