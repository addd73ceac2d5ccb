"""Run the seeds' Django code (000, 001, 002) on Django's own ORM and
transaction API, on the backend shop_settings.py names (pgatomic.django unless
DJANGO_DB_ENGINE says otherwise), in a fresh schema.  scripts/demo-python.sh
calls this."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_settings")
os.environ.setdefault("SHOP_SCHEMA", "shop_demo")

import django  # noqa: E402


def django_models():
    from django.apps import apps
    return list(apps.get_app_config("shop").get_models())


def fresh_schema():
    """Drop and recreate the schema the settings point at, with the
    models' tables in it (no migrations: the example has none)."""
    from django.db import connection
    schema = os.environ["SHOP_SCHEMA"]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        # The session resolved its search_path before the schema existed.
        cursor.execute(f'SET search_path TO "{schema}"')
    with connection.schema_editor() as editor:
        for model in django_models():
            editor.create_model(model)


def show(title, queryset):
    print(f"  {title}:")
    rows = list(queryset)
    if not rows:
        print("    (no rows)")
    for row in rows:
        print("    " + ", ".join(f"{k}={v}" for k, v in row.items()))


def main():
    django.setup()
    from django.db import connection
    import django_seed_000_order_from_cart
    import django_seed_001_add_funds
    import django_seed_002_set_rollback
    print(f"Django {django.get_version()}, ENGINE {connection.settings_dict['ENGINE']}\n")
    for seed in (django_seed_000_order_from_cart, django_seed_001_add_funds,
                 django_seed_002_set_rollback):
        fresh_schema()
        seed.main(show)
        print()


if __name__ == "__main__":
    main()
