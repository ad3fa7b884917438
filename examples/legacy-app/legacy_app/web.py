"""The HTTP API. gunicorn serves `legacy_app.web:application` (see run.sh)."""

import logging

from flask import Flask, Response, current_app, jsonify, request

from legacy_app import cache, db
from legacy_app.config import load_config

log = logging.getLogger("legacy_app")


def _first_line(exc):
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def status():
    """Nagios polls this every minute: 200 `OK`, or 503 and what is broken."""
    cfg = _cfg()
    failed = []
    for name, check in (("database", db.ping), ("cache", cache.ping)):
        try:
            check(cfg)
        except Exception as exc:
            log.warning("status: %s check failed: %s", name, exc)
            failed.append(f"{name}: {_first_line(exc)}")
    if failed:
        return Response("FAIL " + "; ".join(failed) + "\n", 503, mimetype="text/plain")
    return Response("OK", 200, mimetype="text/plain")


def list_orders():
    return jsonify({"orders": db.list_orders(_cfg())})


def create_order():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"error": "expected a JSON object"}), 400
    missing = [key for key in ("customer", "item") if not data.get(key)]
    if missing:
        return jsonify({"error": "missing field(s): " + ", ".join(missing)}), 400
    quantity = data.get("quantity", 1)
    if not isinstance(quantity, int) or quantity < 1:
        return jsonify({"error": f"quantity must be a positive integer, not {quantity!r}"}), 400
    cfg = _cfg()
    order = db.create_order(cfg, data["customer"], data["item"], quantity)
    try:
        cache.invalidate_count(cfg)
    except Exception as exc:
        # The count expires on its own; an order must not fail because of the cache.
        log.warning("could not invalidate the cached count: %s", exc)
    return jsonify(order), 201


def count_orders():
    cfg = _cfg()
    try:
        count = cache.get_count(cfg)
    except Exception as exc:
        log.warning("cache unavailable, counting in the database: %s", exc)
        return jsonify({"count": db.count_orders(cfg), "source": "database"})
    if count is not None:
        return jsonify({"count": count, "source": "cache"})
    count = db.count_orders(cfg)
    cache.set_count(cfg, count)
    return jsonify({"count": count, "source": "database"})


def _cfg():
    return current_app.config["LEGACY_APP"]


def create_app(cfg=None):
    app = Flask(__name__)
    # Read the file only: connections are opened per request, never at import.
    app.config["LEGACY_APP"] = cfg or load_config()
    app.add_url_rule("/status", view_func=status, methods=["GET"])
    app.add_url_rule("/orders", view_func=list_orders, methods=["GET"])
    app.add_url_rule("/orders", view_func=create_order, methods=["POST"])
    app.add_url_rule("/orders/count", view_func=count_orders, methods=["GET"])
    return app


application = create_app()


if __name__ == "__main__":
    # Developer mode only; production runs gunicorn through run.sh.
    logging.basicConfig(level=logging.INFO)
    application.run(port=application.config["LEGACY_APP"].server_port, debug=True)
