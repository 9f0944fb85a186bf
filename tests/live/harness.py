"""Real-server test harness: Barong served the way `make run` serves it, driven over HTTP.

Usage (see tests/live/conftest.py for the shared fixtures)::

    from tests.live.harness import GunicornServer, SmtpSink, NginxGateway, Client

    with SmtpSink() as sink, GunicornServer(smtp=sink, workers=2) as server:
        c = Client(server.url)                         # a requests.Session with a browser-ish UA
        c.signup("a@example.com")                      # first user: active superadmin
        assert "token=" not in server.log_text()

    # a second "host" on the same database (own instance dir, same keys and secret):
    with server.sibling(env={...}) as other: ...

    # Debian nginx with auth_request in front, and a JWT-verifying upstream:
    with UpstreamApp(server.url) as up, NginxGateway(server.url, up.url) as gw:
        Client(gw.url).get("/api/v2/peatio/account/balances")   # -> upstream, verified claims

API
* `GunicornServer(env={}, workers=2, smtp=None, database_url=None, migrate=True, name="barong")`:
  `start()` / `stop()` or a context manager. Runs `python -m barong.serve` (exactly `make
  run`'s command) on a free loopback port after `flask db upgrade` + `flask seed`, with a
  temporary `BARONG_INSTANCE_PATH` and uploads dir. Database: `database_url`, else a
  dedicated, freshly created PostgreSQL database when `TEST_DATABASE_URL` is PostgreSQL
  (`<db>_live_<n>`), else a temp SQLite file. `env` overrides anything (defaults:
  `BARONG_RATELIMIT_ENABLED=false`, `BARONG_MOCK_SMS_CODE=12345`, `BARONG_DOMAIN=<url>`,
  a fixed `BARONG_SECRET_KEY_BASE`). Attributes: `.url`, `.port`, `.instance_path`,
  `.database_url`, `.env`, `.log_path`; `log_text()` is everything gunicorn and the app
  wrote on stdout/stderr (the access log included); `mark_log()` / `log_since(mark)` read
  only what came after a point. The server runs in its own process group, is killed on
  `stop()` (SIGTERM, then SIGKILL) and dies with the test process (PR_SET_PDEATHSIG).
  `sibling(env={}, workers=2)` is a second server on the same database sharing the JWT key
  and secret (two hosts behind one PostgreSQL + Redis); it neither migrates nor seeds.
* `SmtpSink()`: a real aiosmtpd server on a free port; `.host`, `.port`, `.messages`
  (list of `email.message.EmailMessage`), `wait_for(to=None, subject=None, count=1,
  timeout=10)` returns the matching messages, `clear()`. Pass it as `smtp=` to
  `GunicornServer` (sets `BARONG_SMTP_HOST`/`PORT`). `link_token(msg)` extracts the
  token of the first link in a mail.
* `NginxGateway(barong_url, upstream_url=None, keep_method=True)`: Debian nginx
  (`/usr/sbin/nginx`, single process, `daemon off`) on a free port, configured as an
  OpenDAX gateway: every `/api/` request is first checked by `auth_request` against
  Barong's `/api/v2/auth$request_uri` (cookie, CSRF header, API-key headers forwarded; the
  method kept with `proxy_method $request_method` — nginx subrequests are GET otherwise,
  `keep_method=False` reproduces that naive setup); Barong's `Authorization: Bearer <JWT>` answer is set on the proxied request;
  `/api/v2/barong/` goes to Barong, `/api/v2/peatio/` to the upstream; a refusal is
  answered with Barong's own JSON error body. Site paths (`/accounts/`, `/admin/`,
  `/static/`, `/`) are proxied to Barong unchecked. `.url`, `log_text()`.
* `UpstreamApp(barong_url)`: tests/live/upstream.py in a thread — verifies the bearer JWT
  (RS256, aud, iss, exp) with keys from Barong's `/.well-known/jwks.json` and answers
  200 with the claims plus the request's method/path, 401 otherwise.
* `Client(base_url)`: `requests.Session` (a 30 s timeout on every call, redirects not
  followed, paths relative to `base_url`) with helpers
  `signup`, `confirm_email`, `login`, `logout`, `csrf` (the last CSRF token seen),
  `api(method, path, **kw)` which adds `X-CSRF-Token` for state-changing calls.
  `signup_confirmed(base_url, sink, email)` gives a confirmed, logged-in member's Client.
* `Totp(secret).next_code()` (a code of a step not used yet), `enable_2fa(client) -> Totp`,
  `create_api_key(client, totp) -> (kid, secret)`, `apikey_headers(kid, secret)`.
"""
from __future__ import annotations

import email
import email.policy
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
NGINX = "/usr/sbin/nginx"
SECRET = "live-test-secret-key-base-with-enough-length-0123456789"
PASSWORD = "Str0ng-Passw0rd-42!"
UA = "Mozilla/5.0 (X11; Linux x86_64) barong-live-tests"
TIMEOUT = 30  # seconds, every HTTP call of the harness

_counter = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent_and_own_group() -> None:
    os.setsid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kill_group(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)
    # workers left in the group (none expected): make sure
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- database

def _dedicated_postgres(base_url: str) -> tuple[str, callable]:
    """A fresh database beside TEST_DATABASE_URL's (dropped first when left over)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{base.database}_live_{worker}_{os.getpid() % 100000}_{next(_counter)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


# --------------------------------------------------------------------------- gunicorn

class GunicornServer:
    def __init__(self, env: dict | None = None, workers: int = 2, smtp: "SmtpSink | None" = None,
                 database_url: str | None = None, migrate: bool = True, name: str = "barong",
                 start_timeout: float = 90):
        self.extra_env = dict(env or {})
        self.workers = workers
        self.smtp = smtp
        self.database_url = database_url
        self.migrate = migrate
        self.name = name
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self._drop_db = None
        self._tmp = None

    # -- lifecycle
    def start(self) -> "GunicornServer":
        self._tmp = tempfile.mkdtemp(prefix=f"live-{self.name}-")
        tmp = Path(self._tmp)
        self.instance_path = tmp / "instance"
        self.instance_path.mkdir()
        self.log_path = tmp / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if self.database_url is None:
            test_url = os.environ.get("TEST_DATABASE_URL")
            if test_url and test_url.startswith("postgresql"):
                self.database_url, self._drop_db = _dedicated_postgres(test_url)
            else:
                self.database_url = f"sqlite:///{tmp / 'barong.db'}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("BARONG_") and k not in ("DATABASE_URL", "JWT_PRIVATE_KEY_PATH", "SECRET_KEY",
                                                             "HOST", "PORT", "WORKERS", "GUNICORN_CMD_ARGS")}
        env.update({
            "FLASK_APP": "app",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url,
            "BARONG_INSTANCE_PATH": str(self.instance_path),
            "BARONG_UPLOADS_PATH": str(tmp / "uploads"),
            "BARONG_SECRET_KEY_BASE": SECRET,
            "BARONG_RATELIMIT_ENABLED": "false",
            "BARONG_MOCK_SMS_CODE": "12345",
            # the suite's operators sign up without 2FA and change roles alone; the tests of
            # those protections turn them on (env=…)
            "BARONG_CONSOLE_REQUIRE_2FA": "false",
            "BARONG_FOUR_EYES": "",
            "BARONG_DOMAIN": self.url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WORKERS": str(self.workers),
        })
        if self.smtp is not None:
            env["BARONG_SMTP_HOST"], env["BARONG_SMTP_PORT"] = self.smtp.host, str(self.smtp.port)
        env.update({k: str(v) for k, v in self.extra_env.items()})
        self.env = env
        self._log = open(self.log_path, "ab", buffering=0)
        try:
            if self.migrate:
                for cmd in (["db", "upgrade"], ["seed"]):
                    done = subprocess.run([PYTHON, "-m", "flask", "--app", "app", *cmd], cwd=ROOT, env=env,
                                          stdout=self._log, stderr=subprocess.STDOUT, timeout=180)
                    if done.returncode != 0:
                        raise RuntimeError(f"flask {' '.join(cmd)} failed ({done.returncode}):\n"
                                           f"{self.log_text()[-3000:]}")
            self.proc = subprocess.Popen(
                [PYTHON, "-m", "barong.serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent_and_own_group)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(self.url + "/api/v2/barong/identity/ping", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer in {self.start_timeout} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if self._drop_db is not None:
            try:
                self._drop_db()
            finally:
                self._drop_db = None

    def cleanup(self) -> None:
        """stop() and remove the temp directory (the log goes with it)."""
        self.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "GunicornServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- helpers
    def sibling(self, env: dict | None = None, workers: int = 2, name: str | None = None) -> "GunicornServer":
        """A second host on the same database: same secret and JWT key, own instance dir, no migrate/seed."""
        merged = {k: v for k, v in self.extra_env.items()}
        merged["JWT_PRIVATE_KEY_PATH"] = str(self.instance_path / "jwt_private_key.pem")
        merged.update(env or {})
        return GunicornServer(env=merged, workers=workers, smtp=self.smtp, database_url=self.database_url,
                              migrate=False, name=name or f"{self.name}-2")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def mark_log(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, mark: int) -> str:
        with open(self.log_path, "rb") as fh:
            fh.seek(mark)
            return fh.read().decode(errors="replace")

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a `flask …` command against this server's environment (database, instance)."""
        return subprocess.run([PYTHON, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def wait_log(self, pattern: str, timeout: float = 15, since: int = 0) -> bool:
        """True once `pattern` (a regex) appears in the log after the `since` mark (gunicorn writes
        the access line after the body; pass a `mark_log()` so an earlier line cannot match)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log_since(since)):
                return True
            time.sleep(0.05)
        return False


# --------------------------------------------------------------------------- SMTP

class SmtpSink:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self._cond = threading.Condition()
        self.controller = None

    def start(self) -> "SmtpSink":
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
                with sink._cond:
                    sink.messages.append(msg)
                    sink._cond.notify_all()
                return "250 OK"

        self.host, self.port = "127.0.0.1", free_port()
        self.controller = Controller(Handler(), hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()

    def _match(self, to, subject) -> list:
        out = []
        for m in self.messages:
            if to and to.lower() not in str(m.get("To", "")).lower():
                continue
            if subject and subject.lower() not in str(m.get("Subject", "")).lower():
                continue
            out.append(m)
        return out

    def wait_for(self, to: str | None = None, subject: str | None = None, count: int = 1,
                 timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._match(to, subject)
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to={to!r} subject={subject!r} in {timeout} s; "
                                         f"have {[(m['To'], m['Subject']) for m in self.messages]}")
                self._cond.wait(left)


def mail_text(msg) -> str:
    part = msg.get_body(preferencelist=("plain", "html")) if msg.is_multipart() else msg
    return part.get_content()


def mail_links(msg) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", mail_text(msg))


def link_token(msg, name: str = "token") -> str:
    for link in mail_links(msg):
        m = re.search(rf"[?&]{name}=([^&\s]+)", link)
        if m:
            return requests.utils.unquote(m.group(1))
    raise AssertionError(f"no {name}= link in mail: {mail_text(msg)[:500]}")


# --------------------------------------------------------------------------- HTTP client

class Client(requests.Session):
    """requests.Session against one base URL; remembers the last CSRF token it was given."""

    def __init__(self, base_url: str, user_agent: str = UA):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.headers["User-Agent"] = user_agent
        self.csrf: str | None = None

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, url, *args, **kwargs)

    def api(self, method: str, path: str, csrf: bool = True, **kwargs) -> requests.Response:
        """A JSON API call; `/api/v2/barong/` is prefixed to a relative path; CSRF header added."""
        if not path.startswith("/"):
            path = "/api/v2/barong/" + path
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and self.csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        resp = self.request(method, path, headers=headers, **kwargs)
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("csrf_token"):
            self.csrf = body["csrf_token"]
        return resp

    # -- account helpers
    def signup(self, email_addr: str, password: str = PASSWORD, **extra) -> requests.Response:
        r = self.api("POST", "identity/users", json={"email": email_addr, "password": password, **extra})
        assert r.status_code == 201, (r.status_code, r.text)
        return r

    def confirm_email(self, token: str) -> requests.Response:
        r = self.api("POST", "identity/users/email/confirm_code", json={"token": token})
        assert r.status_code == 201, (r.status_code, r.text)
        return r

    def login(self, email_addr: str, password: str = PASSWORD, **extra) -> requests.Response:
        r = self.api("POST", "identity/sessions", json={"email": email_addr, "password": password, **extra})
        assert r.status_code == 200 or r.status_code == 201, (r.status_code, r.text)
        return r

    def logout(self) -> requests.Response:
        return self.api("DELETE", "identity/sessions")

    def session_cookie(self, name: str = "_barong_session") -> str | None:
        return self.cookies.get(name)


def signup_confirmed(base_url: str, sink: SmtpSink, email_addr: str, password: str = PASSWORD) -> Client:
    """Sign a (non-first) user up over HTTP, confirm the email from the mail, log in; returns the Client."""
    c = Client(base_url)
    c.signup(email_addr, password)
    token = link_token(sink.wait_for(to=email_addr)[-1])
    c.confirm_email(token)
    c.login(email_addr, password)
    return c


# --------------------------------------------------------------------------- nginx gateway

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 32m;
    proxy_read_timeout 30s;
    proxy_connect_timeout 5s;
    proxy_http_version 1.1;
    proxy_buffering off;

    upstream barong {{ server {barong}; }}
    upstream peatio {{ server {upstream}; }}

    server {{
        listen 127.0.0.1:{port};
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        # Barong's authorization check: the original method, headers (cookie, CSRF, API key), no body
        location = /_barong_authz {{
            internal;
            {method_line}
            proxy_pass http://barong/api/v2/auth$request_uri;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Host $http_host;
        }}
        # a refusal: ask Barong again for its status and JSON body (nginx drops the subrequest's)
        location @barong_authz_error {{
            internal;
            rewrite ^ /_barong_authz_body last;
        }}
        location = /_barong_authz_body {{
            internal;
            {method_line}
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_pass http://barong/api/v2/auth$request_uri;
        }}

        location /api/ {{
            auth_request /_barong_authz;
            auth_request_set $barong_authorization $upstream_http_authorization;
            proxy_set_header Authorization $barong_authorization;
            # 401/403: refused; any other status of the check (a restriction's 471/423…, a 414
            # for an over-long URI) is an nginx 500: ask Barong again for its status and body
            error_page 401 403 500 = @barong_authz_error;

            location /api/v2/barong/ {{ proxy_pass http://barong; }}
            location /api/v2/peatio/ {{ proxy_pass http://peatio; }}
            return 404;
        }}
        location / {{ proxy_pass http://barong; }}
    }}
}}
"""


class NginxGateway:
    def __init__(self, barong_url: str, upstream_url: str | None = None, keep_method: bool = True):
        #: nginx subrequests are GET: `proxy_method $request_method` lets Barong's check see the
        #: real verb (and check CSRF); keep_method=False is the naive configuration
        self.method_line = "proxy_method $request_method;" if keep_method else ""
        self.barong = barong_url.split("://", 1)[1].rstrip("/")
        self.upstream = (upstream_url or barong_url).split("://", 1)[1].rstrip("/")
        self.proc = None

    def start(self) -> "NginxGateway":
        if not os.path.exists(NGINX):
            raise RuntimeError("Debian nginx is not installed (apt-get install nginx; .ci/run does it)")
        self.tmp = Path(tempfile.mkdtemp(prefix="live-nginx-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=self.tmp, port=self.port, barong=self.barong,
                                                              upstream=self.upstream, method_line=self.method_line))
        self.log_path = self.tmp / "stderr.log"
        self._log = open(self.log_path, "ab", buffering=0)
        self.proc = subprocess.Popen([NGINX, "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent_and_own_group)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc, timeout=5)
            self.proc = None
            self._log.close()

    def __enter__(self) -> "NginxGateway":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_text(self) -> str:
        out = ""
        for p in (self.log_path, self.tmp / "access.log"):
            try:
                out += p.read_text(errors="replace")
            except OSError:
                pass
        return out


# --------------------------------------------------------------------------- upstream

class UpstreamApp:
    """tests/live/upstream.py served from a thread of the test process."""

    def __init__(self, barong_url: str):
        self.barong_url = barong_url.rstrip("/")

    def start(self) -> "UpstreamApp":
        from tests.live.upstream import make_server

        self.server = make_server("127.0.0.1", 0, self.barong_url + "/.well-known/jwks.json")
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "UpstreamApp":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------- 2FA and API keys

class Totp:
    """TOTP codes for one secret, each from a step the server has not seen yet (codes are
    single use per 30 s step; the server accepts the previous, current and next step)."""

    def __init__(self, secret: str):
        import pyotp

        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def next_code(self) -> str:
        while True:
            clock = time.time()
            now = int(clock // self.totp.interval)
            # a previous-step code stays valid only until the current step ends: not in its last seconds
            # (a request crossing the boundary would carry a code two steps old: otp.invalid)
            low = now - 1 if (now + 1) * self.totp.interval - clock > 3 else now
            step = low if self.last_step is None else max(low, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return self.totp.at(step * self.totp.interval)
            time.sleep(1)


def enable_2fa(c: Client) -> Totp:
    """generate_qrcode + enable over HTTP; returns the Totp to compute the next codes."""
    from urllib.parse import parse_qs, urlparse

    r = c.api("POST", "resource/otp/generate_qrcode")
    assert r.status_code == 201, (r.status_code, r.text)
    secret = parse_qs(urlparse(r.json()["data"]["url"]).query)["secret"][0]
    totp = Totp(secret)
    r = c.api("POST", "resource/otp/enable", json={"code": totp.next_code()})
    assert r.status_code == 201, (r.status_code, r.text)
    return totp


def create_api_key(c: Client, totp: Totp, algorithm: str = "HS256") -> tuple[str, str]:
    """(kid, secret) of a new API key (2FA must be on)."""
    r = c.api("POST", "resource/api_keys", json={"algorithm": algorithm, "totp_code": totp.next_code()})
    assert r.status_code == 201, (r.status_code, r.text)
    body = r.json()
    return body["kid"], body["secret"]


def apikey_headers(kid: str, secret: str, algorithm: str = "sha256") -> dict:
    import hashlib
    import hmac

    nonce = str(int(time.time() * 1000))
    signature = hmac.new(secret.encode(), (nonce + kid).encode(), getattr(hashlib, algorithm)).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": signature}
