"""Routes read from the code, with blueprint, router and include() prefixes followed, and the
+1 probe paths chosen off them (an app that serves /health itself keeps it)."""

from pathlib import Path

import pytest

from kubestep import probe_paths
from kubestep.inventory import collect
from kubestep.inventory.route_patterns import serves, template_regex
from tests.legacy_repo import write_tree


def routes(root: Path) -> list[tuple[str, str, str | None]]:
    return [(r.path, r.source, r.note) for r in collect(root).routes]


def test_flask_blueprints_take_the_prefix_they_are_registered_with(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "shop/__init__.py": (
                "from flask import Flask\n"
                "from shop.auth import bp as auth_bp\n"
                "from shop import api\n"
                "def create_app():\n"
                "    app = Flask(__name__)\n"
                "    app.register_blueprint(auth_bp, url_prefix='/auth')\n"
                "    app.register_blueprint(api.views.blueprint)\n"
                "    @app.route('/health')\n"
                "    def health():\n"
                "        return 'ok'\n"
                "    return app\n"
            ),
            "shop/auth/__init__.py": (
                "from flask import Blueprint\n"
                "bp = Blueprint('auth', __name__)\n"
                "from . import routes\n"
            ),
            "shop/auth/routes.py": (
                "from shop.auth import bp\n"
                "@bp.route('/login', methods=['GET', 'POST'])\n"
                "def login():\n    pass\n"
            ),
            "shop/api/__init__.py": "",
            "shop/api/views.py": (
                "from flask import Blueprint\n"
                "blueprint = Blueprint('api', __name__, url_prefix='/api')\n"
                "@blueprint.get('/items/<int:item_id>')\n"
                "def item(item_id):\n    pass\n"
            ),
            "shop/orphan.py": (
                "from flask import Blueprint\n"
                "lost = Blueprint('lost', __name__, url_prefix='/lost')\n"
                "@lost.route('/here')\n"
                "def here():\n    pass\n"
            ),
        },
    )
    assert routes(root) == [
        ("/health", "shop/__init__.py:8", None),
        ("/api/items/<int:item_id>", "shop/api/views.py:3", None),
        ("/auth/login", "shop/auth/routes.py:2", None),
        (
            "/lost/here",
            "shop/orphan.py:3",
            "the lost of shop.orphan is registered where kubestep cannot follow",
        ),
    ]


def test_fastapi_prefixes_add_up_and_a_computed_one_is_said(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "app/main.py": (
                "from fastapi import FastAPI\n"
                "from app.api import items, users\n"
                "from app.settings import PREFIX\n"
                "app = FastAPI()\n"
                "app.include_router(items.router, prefix='/v1')\n"
                "app.include_router(users.router, prefix=PREFIX)\n"
                "app.mount('/static', None)\n"
            ),
            "app/api/items.py": (
                "from fastapi import APIRouter\n"
                "router = APIRouter(prefix='/items')\n"
                "@router.get('/{item_id}')\n"
                "async def item(item_id: int):\n    pass\n"
            ),
            "app/api/users.py": (
                "from fastapi import APIRouter\n"
                "router = APIRouter()\n"
                "@router.post('/users')\n"
                "async def create():\n    pass\n"
            ),
        },
    )
    found = routes(root)
    assert ("/v1/items/{item_id}", "app/api/items.py:3", None) in found
    assert (
        "/users",
        "app/api/users.py:3",
        "the router of app.api.users is mounted at a computed prefix",
    ) in found
    assert ("/static", "app/main.py:7", None) in found


def test_a_prefix_read_from_a_setting_takes_the_settings_default(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "app/settings.py": (
                "from pydantic_settings import BaseSettings\n"
                "class Settings(BaseSettings):\n"
                "    api_prefix: str = '/api'\n"
                "    title: str = 'shop'\n"
                "settings = Settings()\n"
            ),
            "app/main.py": (
                "from fastapi import FastAPI\n"
                "from app.settings import settings\n"
                "from app import items\n"
                "app = FastAPI()\n"
                "app.include_router(items.router, prefix=settings.api_prefix)\n"
                "app.include_router(items.admin, prefix=settings.admin_prefix)\n"
            ),
            "app/items.py": (
                "from fastapi import APIRouter\n"
                "router = APIRouter()\n"
                "admin = APIRouter()\n"
                "@router.get('/items')\n"
                "async def items():\n    pass\n"
                "@admin.get('/stats')\n"
                "async def stats():\n    pass\n"
            ),
        },
    )
    found = routes(root)
    # The default is what config/local.env sets, so the local service serves /api/items.
    assert ("/api/items", "app/items.py:4", None) in found
    # A setting kubestep did not read stays unsure, and says so.
    assert (
        "/stats",
        "app/items.py:7",
        "the admin of app.items is mounted at a computed prefix",
    ) in found


def test_django_urlpatterns_follow_root_urlconf_and_include(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "src/site/settings.py": "ROOT_URLCONF = 'site.urls'\n",
            "src/site/urls.py": (
                "from django.contrib import admin\n"
                "from django.urls import include, path, re_path\n"
                "urlpatterns = [\n"
                "    path('admin/', admin.site.urls),\n"
                "    path('shop/', include('shop.urls')),\n"
                "    re_path(r'^health/?$', lambda request: None),\n"
                "]\n"
            ),
            "src/shop/urls.py": (
                "from django.urls import path\n"
                "urlpatterns = [path('', None), path('<int:pk>/', None)]\n"
            ),
            "src/stale/urls.py": (
                "from django.urls import path\nurlpatterns = [path('old/', None)]\n"
            ),
        },
    )
    found = collect(root).routes
    assert [(r.path, r.note) for r in found] == [
        ("/admin/", "includes admin.site.urls, whose routes kubestep did not read"),
        ("/shop/", None),
        ("/shop/<int:pk>/", None),
        ("/^health/?$", "a regex route"),
    ]
    health = found[-1].pattern
    assert serves(health, "/health") and serves(health, "/health/")
    assert not serves(health, "/healthz")


def test_falcon_starlette_and_webpy_routes(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "api/app.py": "import falcon\napi = falcon.API()\napi.add_route('/songs/{id}', None)\n",
            "star.py": (
                "from starlette.routing import Route\nroutes = [Route('/metrics', None)]\n"
            ),
            "legacy.py": (
                "import web\nurls = ('/', 'Index', '/item/(\\\\d+)', 'Item')\n"
                "app = web.application(urls, globals())\n"
            ),
        },
    )
    paths = [r.path for r in collect(root).routes]
    assert paths == ["/songs/{id}", "/", "/item/(\\d+)", "/metrics"]


def test_routes_carry_the_methods_they_declare(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "app.py": (
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "@app.route('/login', methods=['post'])\n"
                "def login():\n    pass\n"
                "@app.route('/form', methods=ALLOWED)\n"
                "def form():\n    pass\n"
                "@app.post('/items')\n"
                "def create():\n    pass\n"
                "@app.route('/items')\n"
                "def listing():\n    pass\n"
                "app.add_url_rule('/view', view_func=View.as_view('view'))\n"
            ),
        },
    )
    assert [(r.path, r.methods) for r in collect(root).routes] == [
        ("/login", ["POST"]),
        ("/form", None),  # not a literal: kubestep cannot tell
        ("/items", ["POST"]),
        ("/items", ["GET"]),
        ("/view", None),  # a class-based view answers what its class defines
    ]


def test_the_sample_route_is_one_a_get_answers() -> None:
    post_only = {"path": "/login", "pattern": "/login", "source": "a.py:3", "methods": ["POST"]}
    unknown = {"path": "/view", "pattern": "/view", "source": "a.py:9", "methods": None}
    assert probe_paths.sample_route([post_only, unknown], "") == "/view"
    assert probe_paths.sample_route([post_only], "") == ""


@pytest.mark.parametrize(
    ("template", "path", "served"),
    [
        ("/items/<int:id>", "/items/3", True),
        ("/items/<int:id>", "/items/3/x", False),
        ("/files/<path:rest>", "/files/a/b", True),
        ("/files/{rest:path}", "/files/a/b", True),
        ("/c/<string(length=2):lang>", "/c/en", True),
        ("/health/", "/health", True),  # Flask redirects /health to /health/
        ("/-/x", "/-/x", True),
    ],
)
def test_templates_match_the_paths_their_framework_serves(template, path, served) -> None:
    assert serves(template_regex(template), path) is served


def test_probes_move_off_the_apps_own_routes_and_say_so() -> None:
    found = [
        {"path": "/health", "pattern": "/health", "source": "app.py:8"},
        {"path": "/metrics/<name>", "pattern": "/metrics/[^/]+", "source": "app.py:12"},
    ]
    chosen, notes = probe_paths.choose(found)
    assert chosen == {
        "health": "/healthz",
        "ready": "/ready",
        "metrics": "/metrics",
        "info": "/info",
    }
    assert notes == [
        "the app serves /health itself (/health, app.py:8): the +1 step serves its health "
        "probe on /healthz (HEALTH_PATH)"
    ]
    assert probe_paths.moved(chosen) == {"HEALTH_PATH": "/healthz"}


def test_a_catch_all_route_leaves_no_free_path_and_the_note_says_how_to_answer() -> None:
    chosen, notes = probe_paths.choose(
        [{"path": "/<path:p>", "pattern": ".+", "source": "spa.py:3"}]
    )
    assert chosen == probe_paths.DEFAULTS
    assert len(notes) == 4
    assert notes[0].startswith("the app serves /health itself (/<path:p>, spa.py:3) and every")
    assert "set HEALTH_PATH" in notes[0]


def test_the_sample_route_is_a_real_concrete_route() -> None:
    found = [
        {"path": "/api/<int:id>", "pattern": "/api/[^/]+", "source": "a.py:1"},
        {"path": "/x", "pattern": "/x", "source": "b.py:1", "note": "registered elsewhere"},
        {"path": "/^about$", "pattern": "/about", "source": "urls.py:3", "note": "a regex route"},
        {"path": "/tags", "pattern": "/tags", "source": "c.py:1"},
    ]
    assert probe_paths.sample_route(found, "") == "/tags"
    assert probe_paths.sample_route(found, "/status") == "/status"
    assert (
        probe_paths.sample_route([*found, {"path": "/", "pattern": "/", "source": "d"}], "") == "/"
    )
    assert probe_paths.sample_route([], "") == ""


def test_answers_move_probes_and_pick_a_route_of_the_served_app(tmp_path: Path) -> None:
    from kubestep.answers import answers_from_inventory

    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "Django==4.2\ngunicorn==21.2.0\n",
            "manage.py": (
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'club.settings')\n"
            ),
            "club/settings.py": "ROOT_URLCONF = 'club.urls'\n",
            "club/urls.py": (
                "from django.urls import path\n"
                "urlpatterns = [path('healthz', None), path('health', None), path('', None)]\n"
            ),
            "bot.py": "from quart import Quart\nweb = Quart(__name__)\n@web.post('/hook')\n"
            "async def hook():\n    pass\n",
            "Procfile": "web: gunicorn club.wsgi\n",
        },
    )
    legacy = answers_from_inventory(collect(root).to_dict(), 3)["legacy"]
    assert legacy["probe_paths"]["health"] == "/-/health"
    assert legacy["probe_env"] == {"HEALTH_PATH": "/-/health"}
    assert legacy["sample_route"] == "/"
    assert any("serves its health probe on /-/health" in note for note in legacy["probe_notes"])
