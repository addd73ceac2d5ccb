"""Settings for Django's own test suite (tests/runtests.py --settings
django_suite_settings), the way third-party backends run it (e.g.
django-cockroachdb): Django's reference settings for this version
(tests/test_sqlite.py), with both aliases on PostgreSQL through the backend
DJANGO_SUITE_ENGINE names (pgatomic.django, or Django's own
django.db.backends.postgresql for the baseline)."""

import os

from test_sqlite import *  # noqa: F401,F403 -- from Django's tests/ directory

_server = {
    "ENGINE": os.environ.get("DJANGO_SUITE_ENGINE", "pgatomic.django"),
    "USER": os.environ.get("PGUSER", ""),
    "HOST": os.environ.get("PGHOST", ""),
    "PORT": os.environ.get("PGPORT", ""),
}
DATABASES = {
    "default": dict(_server, NAME="django_suite"),
    "other": dict(_server, NAME="django_suite_other"),
}
# Records every test's outcome for django_suite_report.py.
TEST_RUNNER = "django_suite_runner.RecordingRunner"
