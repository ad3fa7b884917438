"""Gunicorn settings for Kubernetes: env-driven, JSON-capable logs, graceful stop on SIGTERM.

Start: gunicorn --config gunicorn.conf.py app.wsgi:application
"""

import os

from app.settings import load_settings
from kubestep_runtime import gunicorn_hooks
from kubestep_runtime.config import EnvReader, fail_fast
from kubestep_runtime.logs import logging_dict

# Bad configuration stops the master here: one line on stderr, exit 2, no worker restarts.
fail_fast(load_settings)

# Before any worker imports prometheus_client, which picks its storage once, at import.
gunicorn_hooks.use_multiprocess_metrics()

_env = EnvReader()
bind = f"0.0.0.0:{_env.integer('PORT', 8000, minimum=1)}"
workers = _env.integer("WEB_CONCURRENCY", 2, minimum=1)
threads = _env.integer("WEB_THREADS", 4, minimum=1)
worker_class = "gthread"
graceful_timeout = _env.integer("GRACEFUL_TIMEOUT", 20, minimum=0)
fail_fast(_env.check)
logconfig_dict = fail_fast(logging_dict)
# gunicornc's control socket would be written under $HOME: not wanted on a read-only root
# filesystem, and kubectl already restarts and scales pods.
control_socket_disable = True
# The heartbeat file on a tmpfs: the root filesystem may be read-only, and disk can stall.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

on_starting = gunicorn_hooks.on_starting
post_fork = gunicorn_hooks.post_fork
post_worker_init = gunicorn_hooks.post_worker_init
child_exit = gunicorn_hooks.child_exit
on_exit = gunicorn_hooks.on_exit
