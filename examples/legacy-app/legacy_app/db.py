"""PostgreSQL access. One connection per call: the app is small and nobody wanted pgbouncer."""

import psycopg2
import psycopg2.extras

# libpq's minimum; /status must answer before the Nagios check times out.
CONNECT_TIMEOUT_S = 2
# Any constant will do, as long as every process uses the same one.
SCHEMA_LOCK_ID = 4242

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id SERIAL PRIMARY KEY,
    customer TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

_schema_ready = False


def connect(cfg):
    return psycopg2.connect(
        host=cfg.db_host,
        port=cfg.db_port,
        dbname=cfg.db_name,
        user=cfg.db_user,
        password=cfg.db_password,
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name="legacy-app",
    )


def _ensure_schema(conn):
    """Create the table on first use: there never was a migration tool."""
    global _schema_ready
    if _schema_ready:
        return
    with conn.cursor() as cur:
        # Two gunicorn workers creating the table at once would collide in pg_type.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
        cur.execute(SCHEMA)
    conn.commit()
    _schema_ready = True


def _run(cfg, func):
    conn = connect(cfg)
    try:
        _ensure_schema(conn)
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            return func(cur)
    finally:
        conn.close()


def ping(cfg):
    conn = connect(cfg)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone()[0] == 1
    finally:
        conn.close()


def list_orders(cfg, limit=100):
    def query(cur):
        cur.execute(
            "SELECT id, customer, item, quantity, status, created_at FROM orders"
            " ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return [_as_json(row) for row in cur.fetchall()]

    return _run(cfg, query)


def create_order(cfg, customer, item, quantity):
    def insert(cur):
        cur.execute(
            "INSERT INTO orders (customer, item, quantity) VALUES (%s, %s, %s)"
            " RETURNING id, customer, item, quantity, status, created_at",
            (customer, item, quantity),
        )
        return _as_json(cur.fetchone())

    return _run(cfg, insert)


def count_orders(cfg):
    def count(cur):
        cur.execute("SELECT count(*) AS n FROM orders")
        return cur.fetchone()["n"]

    return _run(cfg, count)


def purge_older_than(cfg, days):
    def delete(cur):
        cur.execute(
            "DELETE FROM orders WHERE created_at < now() - make_interval(days => %s)", (days,)
        )
        return cur.rowcount

    return _run(cfg, delete)


def _as_json(row):
    order = dict(row)
    order["created_at"] = order["created_at"].isoformat()
    return order
