"""WSGI entry point: `gunicorn app:app`, `flask --app app …`."""
from barong import create_app

app = create_app()
