"""Live tests: the app served by gunicorn (as `make run` does), Debian nginx in front, real SMTP."""
