"""`python -m launchdeck.core.dbcheck URL`: exit 0 when the PostgreSQL database at URL answers, 1 otherwise."""

import sys


def reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and reachable(sys.argv[1]) else 1)
