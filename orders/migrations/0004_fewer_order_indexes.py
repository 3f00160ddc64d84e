"""Three indexes of orders that no query needs, dropped: every index of orders costs every write an
entry (an order's update is never HOT: status and updated_at are indexed).

- `organization_id` alone: every other index of orders but two starts with it.
- `installer_id` alone: `order_installer_status_idx` (installer_id, status) starts with it.
- the `varchar_pattern_ops` copy of `client_token`'s unique index, which PostgreSQL gets for
  LIKE prefix searches that nothing runs: the uniqueness is now a named constraint.

On PostgreSQL the database side only drops the two indexes and the LIKE index and renames the
unique constraint: no lock longer than a catalog change, no table rewrite, and the foreign keys are
not validated again (Django's own AlterField would drop and re-add them, scanning every order).
Elsewhere (SQLite) the database keeps them: they cost nothing there, and the next rebuild of the
table follows the model.
"""

import django.db.models.deletion
from django.db import migrations, models

import orders.models

FORWARD = [
    'DROP INDEX IF EXISTS "orders_order_organization_id_7455e8e5"',
    'DROP INDEX IF EXISTS "orders_order_installer_id_51b20db6"',
    'DROP INDEX IF EXISTS "orders_order_client_token_0ee61663_like"',
    'ALTER TABLE "orders_order" RENAME CONSTRAINT "orders_order_client_token_key" TO "order_client_token_unique"',
]
BACKWARD = [
    'ALTER TABLE "orders_order" RENAME CONSTRAINT "order_client_token_unique" TO "orders_order_client_token_key"',
    'CREATE INDEX IF NOT EXISTS "orders_order_client_token_0ee61663_like" ON "orders_order" '
    '("client_token" varchar_pattern_ops)',
    'CREATE INDEX IF NOT EXISTS "orders_order_installer_id_51b20db6" ON "orders_order" ("installer_id")',
    'CREATE INDEX IF NOT EXISTS "orders_order_organization_id_7455e8e5" ON "orders_order" ("organization_id")',
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_list_count"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="client_token",
                    field=models.CharField(default=orders.models.new_client_token, editable=False, max_length=64),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="installer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assigned_orders",
                        to="orders.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="orders",
                        to="orders.organization",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="order",
                    constraint=models.UniqueConstraint(fields=("client_token",), name="order_client_token_unique"),
                ),
            ],
            database_operations=[migrations.RunPython(run(FORWARD), run(BACKWARD))],
        ),
    ]
