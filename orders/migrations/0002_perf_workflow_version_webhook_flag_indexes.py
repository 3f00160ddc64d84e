"""Performance (issue 8):

- `Workflow.version`: bumped with every change to the workflow's steps or custom field
  definitions, the key of the per-process cache in orders.workflow_cache.
- `Organization.has_webhook_endpoints`: lets the outbox hook skip its endpoint query for
  organizations without webhook endpoints (maintained by webhooks; its migration 0002 sets it
  for existing endpoints).
- PostgreSQL only: trigram GIN indexes behind List Orders' `q` search (case-insensitive
  `icontains` on name, customer, email, address) and an index on UPPER(display_id) for its
  exact match, so that no filter of List Orders scans the orders table. SQLite gets none.
"""

from django.db import migrations, models

TRGM_COLUMNS = ("name", "contact_person_name", "email", "address")


def _pg(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create_search_indexes(apps, schema_editor):
    if not _pg(schema_editor):
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in TRGM_COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "order_q_{column}_trgm" ON "orders_order" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "order_q_display_id_upper" ON "orders_order" ((UPPER("display_id"::text)))'
    )


def drop_search_indexes(apps, schema_editor):
    if not _pg(schema_editor):
        return
    for column in TRGM_COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "order_q_{column}_trgm"')
    schema_editor.execute('DROP INDEX IF EXISTS "order_q_display_id_upper"')


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="has_webhook_endpoints",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="workflow",
            name="version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
