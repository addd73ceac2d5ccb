"""Shared by the examples: a fresh schema per example, so each run starts
from known data and leaves other tables alone (the asyncio twins for
examples/python/aio)."""

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
    print_rows(title, pgatomic.connection.execute(sql))


def print_rows(title, result):
    print(f"  {title}:")
    if not result.rows:
        print("    (no rows)")
    for row in result.dicts():
        print("    " + ", ".join(f"{k}={v}" for k, v in row.items()))


async def use_fresh_schema_async(name):
    """use_fresh_schema() for the current task's connection."""
    conn = pgatomic.aconnection
    await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    await conn.execute(f"CREATE SCHEMA {name}")
    await conn.execute(f"SET search_path TO {name}")
    return conn


async def ashow(title, sql):
    print_rows(title, await pgatomic.aconnection.execute(sql))
