"""The Celery side of the job queue: the app both the web process (to send) and the workers
(to run) build from the settings. `core` reaches it only when CELERY_BROKER_URL is set."""
