"""WSGI entry point: `gunicorn app:app`, `flask --app app …`."""
import sys

from barong import create_app
from barong.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a bad environment variable: one clear line, no traceback
    sys.stderr.write(f"barong: configuration error: {exc}\n")
    raise SystemExit(2) from None

# Objects created while loading the app live as long as the process: keep them out of the
# cyclic GC's generations so its full collections don't pause requests (bench/admin_users.py).
import gc  # noqa: E402

gc.collect()
gc.freeze()
