"""Orders carry `test` (made with a test-mode token) and `deleted_at` (soft delete)."""

from django.db import migrations, models


class AddColumnField(migrations.AddField):
    """AddField that adds the column in place on SQLite too (ALTER TABLE ADD COLUMN with its
    constant default). Django's SQLite path for a NOT NULL field rebuilds the table, and the
    rebuild would create every index of the migration state, including the PostgreSQL-only
    trigram indexes that 0002 adds to the state only."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        definition, params = schema_editor.column_sql(model, field, include_default=True)
        table, column = schema_editor.quote_name(model._meta.db_table), schema_editor.quote_name(field.column)
        schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}", params)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="deleted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        AddColumnField(
            model_name="order",
            name="test",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
