from django.db import migrations

from alongside.monitoring import intake


def install(apps, schema_editor):
    intake.install(schema_editor, apps.get_model("monitoring", "CheckIn"), apps.get_model("core", "IdempotencyRecord"))


def uninstall(apps, schema_editor):
    intake.uninstall(schema_editor)


class Migration(migrations.Migration):
    # SQLite only: the view through which an API check-in is stored in one statement (monitoring/intake.py).
    dependencies = [
        ("monitoring", "0007_checkin_unannounced"),
        ("core", "0004_idempotency_sealed"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
