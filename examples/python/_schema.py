"""Shared by the examples: a fresh schema per example, so each run starts
from known data and leaves other tables alone."""

import pgatomic


def use_fresh_schema(name):
    """Drop and recreate schema `name` and make it this thread's default
    connection's search_path."""
    conn = pgatomic.connection
    conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    conn.execute(f"CREATE SCHEMA {name}")
    conn.execute(f"SET search_path TO {name}")
    return conn


def show(title, sql):
    print(f"  {title}:")
    result = pgatomic.connection.execute(sql)
    if not result.rows:
        print("    (no rows)")
    for row in result.dicts():
        print("    " + ", ".join(f"{k}={v}" for k, v in row.items()))
