"""Exit 0 if PostgreSQL and Redis at the given URLs answer; else print what is down, exit 1."""

import sys

import psycopg
import redis

TIMEOUT_SECONDS = 3


def main(database_url: str, redis_url: str) -> int:
    down = []
    try:
        psycopg.connect(
            database_url.replace("postgres://", "postgresql://", 1), connect_timeout=TIMEOUT_SECONDS
        ).close()
    except psycopg.Error as error:
        down.append(f"PostgreSQL does not answer ({str(error).strip().splitlines()[0]})")
    try:
        redis.Redis.from_url(redis_url, socket_timeout=TIMEOUT_SECONDS).ping()
    except redis.RedisError as error:
        down.append(f"Redis does not answer ({error})")
    print("; ".join(down))
    return 1 if down else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
