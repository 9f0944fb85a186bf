"""`python -m barong.serve`: run the app under gunicorn (the production WSGI server).

Gunicorn's master handles SIGTERM/SIGINT (graceful stop, workers reaped), so `make
run` leaves no orphans. Workers default to 3 on this 2-core machine (2 × cores − 1
measured best in bench/authz.py).
"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    parser.add_argument("--workers", default=os.environ.get("WORKERS", "3"))
    args = parser.parse_args(argv)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    os.execv(gunicorn, [gunicorn, "app:app", "--bind", f"{args.host}:{args.port}", "--workers", str(args.workers),
                        "--preload", "--access-logfile", "-", "--graceful-timeout", "10",
                        "--forwarded-allow-ips", "127.0.0.1,::1"])


if __name__ == "__main__":
    main()
