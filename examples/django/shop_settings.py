"""Settings of the seeds' Django project.  The one line that makes Django
run on pgatomic is ENGINE; everything else is an ordinary PostgreSQL
configuration, read here from the PG* variables (scripts/pgtmp sets them).
DJANGO_DB_ENGINE=django.db.backends.postgresql runs the same code on psycopg."""

import os

DATABASES = {
    "default": {
        "ENGINE": os.environ.get("DJANGO_DB_ENGINE", "pgatomic.django"),
        "NAME": os.environ.get("PGDATABASE", "postgres"),
        "USER": os.environ.get("PGUSER", ""),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        # Each run works in a schema of its own (run_all.py makes it).
        "OPTIONS": {"options": "-c search_path=%s" % os.environ.get("SHOP_SCHEMA", "shop")},
    },
}
if os.environ.get("SHOP_PROXY_PORT"):
    # The tests go through tests/proxy/pgproxy, to count round trips on
    # the wire and to cut the connection at chosen moments.
    DATABASES["default"].update(HOST="127.0.0.1", PORT=os.environ["SHOP_PROXY_PORT"])
    DATABASES["default"]["OPTIONS"].update(sslmode="disable", connect_timeout=5)
INSTALLED_APPS = ["shop"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
SECRET_KEY = "pgatomic-seeds-example"
