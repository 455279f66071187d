"""Factories and fixtures shared by every app's tests (pytest plugin: alongside.testing.fixtures)."""
