"""Production server settings: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

Migrations run once before the workers start (`flask --app app db upgrade`), never from a worker.
"""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
# Forwarded headers are trusted only from the reverse proxy on this host.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# The access log never carries request bodies. Query values (searches carry clients' names) and
# secret tokens in paths (feeds, partner and opt-out links, feedback codes) are redacted by
# core.logging.GunicornLogger in every atom, so also a format changed later cannot leak them.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = "core.logging.GunicornLogger"


def post_fork(server, worker):
    from core.logging import install

    install()


def post_worker_init(worker):
    # The app is imported by now (core.setup.freeze_long_lived_objects says why).
    from core.setup import freeze_long_lived_objects

    freeze_long_lived_objects()
