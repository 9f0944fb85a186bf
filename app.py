"""WSGI entry point: `gunicorn app:app`, `flask --app app …`."""
import sys

from barong import create_app
from barong.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a bad environment variable: one clear line, no traceback
    sys.stderr.write(f"barong: configuration error: {exc}\n")
    raise SystemExit(2) from None
