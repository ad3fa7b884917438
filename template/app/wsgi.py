"""The WSGI entry point: `gunicorn --config gunicorn.conf.py app.wsgi:application`."""

from app.main import create_app
from app.settings import load_settings
from kubestep_runtime import configure_logging, fail_fast, wrap_wsgi

configure_logging()
settings = fail_fast(load_settings)
application = wrap_wsgi(create_app(settings))
