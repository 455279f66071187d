from django.db import migrations

from alongside.monitoring import intake


def install(apps, schema_editor):
    intake.install(schema_editor, apps.get_model("monitoring", "CheckIn"), apps.get_model("core", "IdempotencyRecord"))


class Migration(migrations.Migration):
    # SQLite only: the intake view made again, now also finding the tags a check-in names by label.
    dependencies = [("monitoring", "0008_checkin_intake")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
