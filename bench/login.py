"""Login latency against the real server, beside the cost of one password hash.

    .venv/bin/python -m bench.login [-n 200] [--workers 1]

Starts `python -m barong.serve` (gunicorn) on a free port with a temporary instance
directory and SQLite database (schema from the models, seeded; BARONG_RATELIMIT_ENABLED=false),
signs a user up, then
does N sequential `POST /api/v2/barong/identity/sessions` over one keep-alive connection
(http.client) and prints the median latency beside the median time of one argon2id hash
with the configured parameters (timed in this process, one between every two logins so
both see the same machine load), and their ratio. Target: ratio ≤ 1.2 — the hash is the
price of a login; everything else should be noise.

`--smtp sink` (default): mail goes over SMTP to a local aiosmtpd sink, and the bench waits
for every "New Login" mail at the end (the background deliverer sends them; the login
never waits on SMTP). `--smtp hang`: an SMTP server that accepts and never answers — the
logins must cost the same. `--smtp none`: `.eml` files.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Passw0rd-42"
UA = "bench/login"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hasher():
    """The argon2id profile the server uses (barong.security.passwords)."""
    from barong.security import passwords

    h = passwords._DEFAULT
    return h, f"argon2id t={h.time_cost} m={h.memory_cost // 1024}MiB p={h.parallelism}"


def time_hash(h) -> float:
    t = time.perf_counter()
    h.hash(PASSWORD)
    return time.perf_counter() - t


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None,
            cookie: str | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    headers = {"User-Agent": UA, "Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, resp


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            if request(conn, "GET", "/api/v2/barong/identity/ping")[0] == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


class HangingSmtp:
    """Accepts connections and never says a word (a hung SMTP server)."""

    def __init__(self):
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def smtp_server(kind: str):
    """(host, port, sink or None, closer) for --smtp."""
    if kind == "none":
        return None, None, None, lambda: None
    if kind == "hang":
        hung = HangingSmtp()
        return "127.0.0.1", hung.port, None, hung.close
    sys.path.insert(0, str(ROOT))
    from tests.live.harness import SmtpSink

    sink = SmtpSink().start()
    return sink.host, sink.port, sink, sink.stop


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="timed logins (default 200)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", default="1", help="gunicorn workers (sequential client: 1 is enough)")
    parser.add_argument("--smtp", choices=("sink", "hang", "none"), default="sink",
                        help="where mail goes: an SMTP sink (default), a hung SMTP server, .eml files")
    parser.add_argument("--mail-delivery", choices=("background", "inline"), default="background",
                        help="BARONG_MAIL_DELIVERY: inline sends in the request, as before issue 18")
    args = parser.parse_args(argv)
    smtp_host, smtp_port, sink, close_smtp = smtp_server(args.smtp)

    tmp = Path(tempfile.mkdtemp(prefix="barong-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARONG_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}", BARONG_INSTANCE_PATH=str(tmp),
               BARONG_RATELIMIT_ENABLED="false", BARONG_UPLOADS_PATH=str(tmp / "uploads"),
               # gunicorn's sync worker closes every connection; the threaded worker keeps it alive
               GUNICORN_CMD_ARGS=os.environ.get("GUNICORN_CMD_ARGS", "--worker-class gthread --threads 2 --keep-alive 30"))
    env["BARONG_MAIL_DELIVERY"] = args.mail_delivery
    if smtp_host:
        env.update(BARONG_SMTP_HOST=smtp_host, BARONG_SMTP_PORT=str(smtp_port), BARONG_SMTP_TIMEOUT="10")
    # schema from the models (create_all) so the bench does not depend on the migration being current
    setup = ("from app import app\nfrom barong.extensions import db\nfrom barong.services import seeding\nfrom barong.services.infra import unit_of_work\n"
             "with app.app_context():\n    db.create_all(); seeding.seed(); unit_of_work.commit()\n")
    subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "barong.serve", "--port", str(port), "--workers", args.workers],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        email = "bench@example.com"
        status, body, _ = request(conn, "POST", "/api/v2/barong/identity/users", {"email": email, "password": PASSWORD})
        assert status == 201, body
        latencies, hashes = [], []
        h, params = hasher()
        for i in range(args.warmup + args.n):
            # one hash between two logins: both medians see the same machine load
            if i >= args.warmup:
                hashes.append(time_hash(h))
            t = time.perf_counter()
            status, body, resp = request(conn, "POST", "/api/v2/barong/identity/sessions",
                                         {"email": email, "password": PASSWORD})
            elapsed = time.perf_counter() - t
            assert status == 201, (status, body[:200])
            assert resp.getheader("Connection", "").lower() != "close", "keep-alive expected"
            if i >= args.warmup:
                latencies.append(elapsed)
        conn.close()
        if sink is not None:  # every login's "New Login" mail arrives, none was waited for
            started = time.perf_counter()
            sink.wait_for(to=email, subject="New Login", count=args.warmup + args.n, timeout=120)
            mails = f"{len(sink._match(email, 'New Login'))} 'New Login' mails delivered over SMTP " \
                    f"(the last {time.perf_counter() - started:.1f} s after the last login)"
        else:
            mails = "hung SMTP server (accepts, never answers)" if args.smtp == "hang" else "mail as .eml files"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        close_smtp()
    login = statistics.median(latencies)
    hashed = statistics.median(hashes)
    print(f"logins: {args.n} sequential over one keep-alive connection, gunicorn workers={args.workers}, "
          f"mail delivery {args.mail_delivery}")
    print(f"POST identity/sessions median: {login * 1000:.1f} ms (p90 "
          f"{statistics.quantiles(latencies, n=10)[-1] * 1000:.1f} ms)")
    print(f"one password hash median ({params}, {len(hashes)} samples): {hashed * 1000:.1f} ms")
    print(f"ratio login/hash: {login / hashed:.2f} (target <= 1.2)")
    print(f"mail: {mails}")


if __name__ == "__main__":
    main()
