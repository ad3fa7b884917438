"""Docker tier: a Heroku-shaped Django app whose manifest storage needs collectstatic, which
its Procfile never runs (the buildpack did): the image collects at build, the pages render."""

import re
import subprocess
from pathlib import Path

import pytest

from kubestep.migrate import migrate
from tests.docker_helpers import compose_leftovers, free_port, http_get, local_run_variables
from tests.legacy_repo import GIT_IDENTITY, legacy_copy, write_tree
from tests.render import VENV_BIN, make

pytestmark = pytest.mark.docker
PROJECT = "shelf"

SETTINGS = """import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ["SECRET_KEY"]  # required: settings do not import without it
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
ROOT_URLCONF = "shelf.urls"
WSGI_APPLICATION = "shelf.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
    }
]
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
"""

FILES = {
    "Procfile": "web: gunicorn shelf.wsgi --bind 0.0.0.0:$PORT\n",
    "requirements.txt": "Django==4.2.16\nwhitenoise==6.7.0\ngunicorn==23.0.0\n",
    "manage.py": (
        "import os\nimport sys\n\n"
        "if __name__ == '__main__':\n"
        "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shelf.settings')\n"
        "    from django.core.management import execute_from_command_line\n\n"
        "    execute_from_command_line(sys.argv)\n"
    ),
    "shelf/__init__.py": "",
    "shelf/settings.py": SETTINGS,
    "shelf/urls.py": (
        "from django.shortcuts import render\nfrom django.urls import path\n\n\n"
        "def page(request):\n    return render(request, 'page.html')\n\n\n"
        'urlpatterns = [path("", page)]\n'
    ),
    "shelf/wsgi.py": (
        "import os\n\nfrom django.core.wsgi import get_wsgi_application\n\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shelf.settings')\n"
        "application = get_wsgi_application()\n"
    ),
    "templates/page.html": '{% load static %}<link href="{% static "shelf.css" %}">\n',
    "static/shelf.css": "body { color: teal; }\n",
}


def test_a_manifest_storage_app_is_collected_at_build_and_serves_its_pages(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = legacy_copy(tmp_path / PROJECT, write_tree(tmp_path / "source", FILES))
    migrate(repo, "3", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "\nFROM build AS static\n" in dockerfile
    assert "\nCOPY --from=static /app/ ./\n" in dockerfile
    assert "sh -c 'python manage.py collectstatic --noinput'" in dockerfile
    linted = subprocess.run(
        [VENV_BIN / "hadolint", "Dockerfile"], cwd=repo, capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "static-build")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        status, body = http_get(f"http://127.0.0.1:{port}/")
        # Without the manifest, {% static %} raises and the page is a 500.
        assert status == 200, body
        hashed = re.search(r'href="(/static/shelf\.[0-9a-f]{12}\.css)"', body)
        assert hashed, body
        assert http_get(f"http://127.0.0.1:{port}{hashed[1]}") == (200, "body { color: teal; }\n")
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers(PROJECT) == {}
