"""The project package: settings, URLs, the WSGI/ASGI entry points and the Celery app.

The Celery app is imported here so that every task (`shared_task`) binds to it in any
process that loads the settings: the web server queues tasks on the same Redis.
"""

from config.celery import app as celery_app

__all__ = ["celery_app"]
