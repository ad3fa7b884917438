"""The API with the database and Redis replaced by fakes: no server needed."""

import pytest
from legacy_app import web


class FakeDb:
    def __init__(self):
        self.orders = []
        self.down = None

    def _check(self):
        if self.down:
            raise ConnectionError(self.down)

    def ping(self, cfg):
        self._check()
        return True

    def list_orders(self, cfg, limit=100):
        self._check()
        return list(reversed(self.orders))[:limit]

    def create_order(self, cfg, customer, item, quantity):
        self._check()
        order = {
            "id": len(self.orders) + 1,
            "customer": customer,
            "item": item,
            "quantity": quantity,
            "status": "pending",
            "created_at": "2016-03-01T12:00:00+00:00",
        }
        self.orders.append(order)
        return order

    def count_orders(self, cfg):
        self._check()
        return len(self.orders)


class FakeCache:
    def __init__(self):
        self.count = None
        self.down = None

    def _check(self):
        if self.down:
            raise ConnectionError(self.down)

    def ping(self, cfg):
        self._check()
        return True

    def get_count(self, cfg):
        self._check()
        return self.count

    def set_count(self, cfg, count):
        self._check()
        self.count = count

    def invalidate_count(self, cfg):
        self._check()
        self.count = None


@pytest.fixture
def fakes(monkeypatch):
    db, cache = FakeDb(), FakeCache()
    monkeypatch.setattr(web, "db", db)
    monkeypatch.setattr(web, "cache", cache)
    return db, cache


@pytest.fixture
def client(fakes):
    return web.create_app().test_client()


def test_status_is_ok_when_both_backends_answer(client):
    response = client.get("/status")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "OK"


@pytest.mark.parametrize("broken", ["database", "cache"])
def test_status_names_the_broken_backend(client, fakes, broken):
    db, cache = fakes
    (db if broken == "database" else cache).down = "Connection refused\nIs the server running?"
    response = client.get("/status")
    assert response.status_code == 503
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"FAIL {broken}: Connection refused\n"


def test_post_then_get_an_order(client):
    created = client.post("/orders", json={"customer": "acme", "item": "widget", "quantity": 3})
    assert created.status_code == 201
    assert created.get_json()["id"] == 1
    orders = client.get("/orders").get_json()["orders"]
    assert [(o["customer"], o["quantity"]) for o in orders] == [("acme", 3)]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"item": "widget"}, "missing field(s): customer"),
        (
            {"customer": "acme", "item": "widget", "quantity": 0},
            "quantity must be a positive integer, not 0",
        ),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_post_rejects_bad_orders(client, body, error):
    response = client.post("/orders", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": error}


def test_count_is_cached_and_invalidated_by_a_new_order(client, fakes):
    cache = fakes[1]
    assert client.get("/orders/count").get_json() == {"count": 0, "source": "database"}
    assert client.get("/orders/count").get_json() == {"count": 0, "source": "cache"}
    client.post("/orders", json={"customer": "acme", "item": "widget"})
    assert cache.count is None
    assert client.get("/orders/count").get_json() == {"count": 1, "source": "database"}


def test_count_falls_back_to_the_database_without_redis(client, fakes):
    cache = fakes[1]
    cache.down = "Connection refused"
    assert client.get("/orders/count").get_json() == {"count": 0, "source": "database"}


def test_an_order_survives_a_broken_cache(client, fakes):
    fakes[1].down = "Connection refused"
    assert client.post("/orders", json={"customer": "acme", "item": "widget"}).status_code == 201
