"""The distributed shell around ``pipeline``: Celery app, thin tasks, events, store, client, CLI."""
