"""Checks PostgreSQL and Redis before the portal starts, creating the database when it is missing.

Prints shell ``export`` lines for the fallbacks it chooses; every human-readable message goes to stderr.
Usage: ``eval "$(python scripts/preflight.py)"``.
"""

import os
import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cqmic"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def say(message: str) -> None:
    print(message, file=sys.stderr)


def check_postgres(url: str) -> bool:
    import psycopg2
    from psycopg2 import sql

    cfg = environ.Env.db_url_config(url)
    if not cfg["ENGINE"].endswith("postgresql"):
        return True  # another engine was configured on purpose: nothing to prepare here
    params = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "user": cfg.get("USER") or "postgres",
        "password": cfg.get("PASSWORD") or None,
        "connect_timeout": 3,
    }
    try:
        conn = psycopg2.connect(dbname="postgres", **params)
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
        say(f"WARNING: PostgreSQL at {params['host']}:{params['port']} is not reachable ({reason}).")
        return False
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
            say(f"Created PostgreSQL database {cfg['NAME']}.")
    conn.close()
    return True


def check_redis(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        say(f"WARNING: Redis at {url} is not reachable ({exc}).")
        return False
    return True


def main() -> None:
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    db_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS)
    if not check_postgres(db_url):
        say("         Falling back to SQLite (var/demo.sqlite3): fine for a look around, not for real use.")
        print(f"export DATABASE_URL=sqlite:///{BASE_DIR / 'var' / 'demo.sqlite3'}")
    if redis_url and not check_redis(redis_url):
        say("         Falling back to the in-memory cache and in-process tasks; no Celery worker or beat.")
        print("export REDIS_URL=")
        print("export PORTAL_NO_WORKER=1")


if __name__ == "__main__":
    main()
