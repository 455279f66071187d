"""Suite-wide hooks: tag database tests (make test runs them again on PostgreSQL) and say, at the end, how many
tests ran on which database."""

import pytest

pytest_plugins = ["alongside.testing.fixtures"]

DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
    "client",
    "admin_client",
    "django_user_model",
}


def pytest_collection_modifyitems(items):
    for item in items:
        uses_database = item.get_closest_marker("django_db") is not None or bool(
            DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        if uses_database:
            item.add_marker(pytest.mark.database)


def pytest_terminal_summary(terminalreporter):
    from django.db import connection

    counts = {key: len(terminalreporter.stats.get(key, [])) for key in ("passed", "failed", "error", "skipped")}
    ran = counts["passed"] + counts["failed"]
    details = ", ".join(f"{number} {key}" for key, number in counts.items() if number)
    terminalreporter.write_line(f"alongside: {ran} tests ran on {connection.vendor} ({details or 'none'})")
