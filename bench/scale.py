"""Benchmark: 1,000,000 users on PostgreSQL — `GET admin/users` with every filter, the
console's user search and the KYC queue, each p99 beside the 150 ms target (issue 18).

    .venv/bin/python -m bench.scale                  # seed once (kept), then measure
    .venv/bin/python -m bench.scale --reseed         # drop and seed again
    .venv/bin/python -m bench.scale --users 200000   # a smaller run

* Seeds with COPY (psycopg): N users (uid, email, role, level, state over a year), a
  profile each (country, encrypted names from bench/admin_users.py's 20 × 23 names with
  their search index), a verified phone for level ≥ 2, an approved document for level 3
  (encrypted numbers, CRC32 index), 2 % pending KYC applicants (a pending identity
  document and address proof, the `document: pending` label), the labels matching each
  level, and 2 activities per user (2,000,000 at 1,000,000 users). Database
  `barong_scale` (`BENCH_SCALE_PG_URL` overrides), schema from the models (which
  `tests/test_migrations.py` keeps equal to the migrations), then VACUUM ANALYZE.
* Builds the real app on it, signs a superadmin in, and calls each URL with the Flask
  test client (the whole request stack but the socket): 5 warm-up calls, then
  `--iterations` timed ones; prints p50 / p99 / the `Total` header, and whether p99 is
  under the target. `gc.freeze()` after start-up, as the pre-loading server does.
* The per-worker admin body cache (barong.api.admin_bodies) is cleared before each timed
  call, so that each admin GET is built from the database (`--cached`: leave it on).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from urllib.parse import quote

from bench.admin_users import ADMIN_EMAIL, COUNTRIES, FIRST_NAMES, LAST_NAMES, PASSWORD, ROLES, STATES

PG_URL = os.environ.get("BENCH_SCALE_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/barong_scale")
TARGET_MS = 150.0
PENDING_SHARE = 0.02  # users waiting in the KYC queue


def _ensure_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    exists = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                             f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def make_app(url: str):
    os.environ.setdefault("BARONG_SECRET_KEY_BASE", "bench-secret-key-base-0123456789-0123456789")
    from barong import create_app
    from barong.config import from_env

    cfg = from_env({**os.environ, "DATABASE_URL": url, "BARONG_RATELIMIT_ENABLED": "false",
                    "BARONG_CONSOLE_REQUIRE_2FA": "false", "BARONG_MAIL_DELIVERY": "inline"})
    return create_app(cfg)


def _copy(raw, table: str, columns: tuple[str, ...], rows) -> int:
    n, started = 0, time.perf_counter()
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    print(f"    {table}: {n:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    return n


def seed(app, n_users: int, reseed: bool) -> None:
    from sqlalchemy import func, text

    from barong.extensions import db
    from barong.models import User
    from barong.models.base import name_key
    from barong.security import passwords
    from barong.security.crypto import crc32_index, encrypt
    from barong.services import seeding
    from barong.services.accounts import labels, users
    from barong.services.infra import unit_of_work

    with app.app_context():
        db.create_all()
        seeded = db.session.query(func.count(User.id)).scalar() or 0
        db.session.remove()
        if seeded >= n_users and not reseed:
            print(f"  (reusing the {seeded:,} seeded users; --reseed to start over)")
            return
        db.drop_all()
        db.create_all()
        seeding.seed()
        admin = users.create(ADMIN_EMAIL, PASSWORD, role="superadmin", state="active")
        labels.add(admin, "email", "verified", scope="private")
        users.apply_state(admin, "active")
        unit_of_work.commit()
        first_id = admin.id + 1
        rnd = random.Random(18)
        digest = passwords.hash_password(PASSWORD)
        enc_dob = encrypt("1990-01-01")
        names = {n: (encrypt(n), crc32_index(name_key(n))) for n in FIRST_NAMES + LAST_NAMES}
        now = datetime.utcnow().replace(microsecond=0)
        plan = []  # (id, created, state, level, pending_kyc)
        for i in range(n_users):
            state = rnd.choice(STATES)
            level = 0 if state == "pending" else rnd.choice([1, 1, 1, 2, 2, 3])
            pending = level == 2 and rnd.random() < PENDING_SHARE * 3
            plan.append((first_id + i, now - timedelta(seconds=rnd.randint(0, 365 * 86400)), state, level, pending))
        started = time.perf_counter()
        tables = ("users", "profiles", "phones", "documents", "labels", "activities")
        # indexes not backing a constraint are dropped for the load and rebuilt after it
        # (one sort per index instead of a million inserts into each); FK checks are skipped
        indexes = db.session.execute(text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(:t) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"), {"t": list(tables)}).all()
        for name, _ in indexes:
            db.session.execute(text(f"DROP INDEX {name}"))
        db.session.commit()
        raw = db.engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            dbapi.execute("SET session_replication_role = replica")
            counts = {}

            def users_rows():
                for i, (uid_num, created, state, level, _) in enumerate(plan):
                    email = f"user{i}@scale.example.com"
                    yield (uid_num, f"ID{uid_num:010X}", email, email, digest, rnd.choice(ROLES), level, False,
                           state, 0, 0, created, created + timedelta(seconds=rnd.randint(0, 86400 * 30)))

            counts["users"] = _copy(dbapi, "users", ("id", "uid", "email", "email_lower", "password_digest", "role",
                                                     "level", "otp", "state", "failed_logins", "temporary_locks",
                                                     "created_at", "updated_at"), users_rows())

            def profile_rows():
                for i, (uid_num, created, _, level, _) in enumerate(plan):
                    first, last = names[FIRST_NAMES[i % len(FIRST_NAMES)]], names[LAST_NAMES[i % len(LAST_NAMES)]]
                    yield (uid_num, first[0], first[1], last[0], last[1], enc_dob, "Kyiv", "01001",
                           COUNTRIES[(i * 7) % len(COUNTRIES)], 3 if level >= 3 else 1, created, created)

            counts["profiles"] = _copy(dbapi, "profiles", (
                "user_id", "first_name_encrypted", "first_name_index", "last_name_encrypted", "last_name_index",
                "dob_encrypted", "city", "postcode", "country", "state", "created_at", "updated_at"), profile_rows())

            def phone_rows():
                for i, (uid_num, created, _, level, _) in enumerate(plan):
                    if level >= 2:
                        number = f"38067{i:07d}"
                        yield (uid_num, "UA", encrypt(number), crc32_index(number), created, created, created)

            counts["phones"] = _copy(dbapi, "phones", ("user_id", "country", "number_encrypted", "number_index",
                                                       "validated_at", "created_at", "updated_at"), phone_rows())

            def document_rows():
                for i, (uid_num, created, _, level, pending) in enumerate(plan):
                    if level >= 3 or pending:
                        doc_number = f"AB{i:07d}"
                        state = "pending" if pending else "approved"
                        stamp = now - timedelta(seconds=rnd.randint(0, 30 * 86400)) if pending else created
                        yield (uid_num, f"scale-{i}.png", "Passport", "identity", encrypt(doc_number),
                               crc32_index(doc_number), state, stamp, stamp)
                        if pending:
                            yield (uid_num, f"scale-{i}-address.png", "Utility Bill", "address", None, None,
                                   "pending", stamp, stamp)

            counts["documents"] = _copy(dbapi, "documents", (
                "user_id", "upload", "doc_type", "doc_category", "doc_number_encrypted", "doc_number_index",
                "review_state", "created_at", "updated_at"), document_rows())

            def label_rows():
                for uid_num, created, _, level, pending in plan:
                    for lvl, key in enumerate(("email", "phone", "document"), start=1):
                        if level >= lvl:
                            yield (uid_num, key, "verified", "private", created, created)
                    if pending:
                        yield (uid_num, "document", "pending", "private", created, now - timedelta(
                            seconds=rnd.randint(0, 30 * 86400)))

            counts["labels"] = _copy(dbapi, "labels", ("user_id", "key", "value", "scope", "created_at",
                                                       "updated_at"), label_rows())

            def activity_rows():
                for uid_num, created, _, _, _ in plan:
                    yield (uid_num, "user", "10.0.0.1", "Mozilla/5.0 bench", "account", "signup", "succeed", created)
                    yield (uid_num, "user", "10.0.0.1", "Mozilla/5.0 bench", "session", "login",
                           "failed" if rnd.random() < 0.1 else "succeed", created + timedelta(minutes=5))

            counts["activities"] = _copy(dbapi, "activities", ("user_id", "category", "user_ip", "user_agent", "topic",
                                                               "action", "result", "created_at"), activity_rows())
            dbapi.execute("SET session_replication_role = DEFAULT")
            dbapi.commit()
        finally:
            raw.close()
        built = time.perf_counter()
        db.session.execute(text("SET maintenance_work_mem = '256MB'"))
        for _, definition in indexes:
            db.session.execute(text(definition))
        db.session.commit()
        print(f"    {len(indexes)} indexes rebuilt in {time.perf_counter() - built:.1f} s", flush=True)
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))"))
        from barong.services.verification import kyc_review

        waiting_set = kyc_review.refresh_all_waiting()  # users.kyc_waiting_since, as the app keeps it
        db.session.commit()
        print(f"    kyc_waiting_since recomputed for {waiting_set:,} candidate users", flush=True)
        copied = time.perf_counter() - started
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"  seeded {', '.join(f'{v:,} {k}' for k, v in counts.items())} with COPY in {copied:.0f} s "
              f"(+ VACUUM ANALYZE: {time.perf_counter() - started:.0f} s in all)", flush=True)


def scenarios(app) -> list[tuple[str, str]]:
    from barong.extensions import db
    from barong.models import Document, Phone, User

    with app.app_context():
        sample = db.session.query(User).filter(User.email.like("user%")).order_by(User.id.desc()).first()
        phone = db.session.query(Phone).order_by(Phone.id.desc()).first()
        document = (db.session.query(Document).filter(Document.doc_number_index.isnot(None))
                    .order_by(Document.id.desc()).first())
        digits = phone.number
        pretty_phone = quote(f"+{digits[:3]} {digits[3:5]} {digits[5:8]} {digits[8:]}")
        doc_number = document.doc_number.lower()
        db.session.remove()
    now = int(time.time())
    a = "/api/v2/barong/admin/users"
    part = sample.email.split("@")[0]
    return [
        ("admin/users (no filter)", a),
        ("admin/users page=100", f"{a}?page=100"),
        ("admin/users limit=100 page=5000 (offset 499,900)", f"{a}?page=5000"),
        ("admin/users uid=", f"{a}?uid={sample.uid}"),
        ("admin/users email=", f"{a}?email={sample.email}"),
        ("admin/users role=admin", f"{a}?role=admin"),
        ("admin/users state=banned", f"{a}?state=banned"),
        ("admin/users level=2", f"{a}?level=2"),
        ("admin/users level=1&state=active ordering=desc", f"{a}?level=1&state=active&ordering=desc"),
        ("admin/users country=UA", f"{a}?country=UA"),
        ("admin/users country=UA&level=3", f"{a}?country=UA&level=3"),
        ("admin/users range=created from/to (30 d)", f"{a}?range=created&from={now - 60 * 86400}&to={now - 30 * 86400}"),
        ("admin/users range=updated from (7 d)", f"{a}?range=updated&from={now - 7 * 86400}"),
        ("admin/users range=created to (old)", f"{a}?range=created&to={now - 360 * 86400}"),
        ("admin/users order_by=email desc", f"{a}?order_by=email&ordering=desc"),
        ("admin/users order_by=created_at", f"{a}?order_by=created_at"),
        ("admin/users extended=true", f"{a}?extended=true"),
        ("admin/users first_name= (ignored)", f"{a}?first_name=Olena"),
        ("admin/users q= email part", f"{a}?q={part}@"),
        ("admin/users q= uid", f"{a}?q={sample.uid.lower()}"),
        ("admin/users q= name (first last)", f"{a}?q=Olena%20Shevchenko"),
        ("admin/users q= last name", f"{a}?q=kovalenko"),
        ("admin/users q= phone", f"{a}?q={pretty_phone}"),
        ("admin/users q= document number", f"{a}?q={doc_number}"),
        ("admin/users q= no match", f"{a}?q=nobody-at-all"),
        ("admin/users q= name & state=active", f"{a}?q=Olena%20Shevchenko&state=active"),
        ("console /admin/users", "/admin/users"),
        ("console /admin/users?q= email part", f"/admin/users?q={part}@"),
        ("console /admin/users?q= uid", f"/admin/users?q={sample.uid}"),
        ("console /admin/users?q= name", "/admin/users?q=Olena%20Shevchenko"),
        ("console /admin/users?q= phone", f"/admin/users?q={pretty_phone}"),
        ("console /admin/users?q= document number", f"/admin/users?q={doc_number}"),
        ("admin/users/documents/pending", f"{a}/documents/pending"),
        ("admin/users/documents/pending page=50", f"{a}/documents/pending?page=50"),
        ("admin/users/documents/pending country=UA", f"{a}/documents/pending?country=UA"),
        ("console /admin/kyc (queue)", "/admin/kyc"),
    ]


def run(app, iterations: int, only: str | None = None, cached: bool = False) -> list[tuple[str, float, float, str]]:
    from barong.api import admin_bodies

    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 bench"
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    import gc

    gc.collect()
    gc.freeze()
    results = []
    for name, url in scenarios(app):
        if only and only not in name:
            continue
        for _ in range(5):
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
        timings = []
        for _ in range(iterations):
            if not cached:
                admin_bodies.clear()  # each admin/users answer built from the database, not the body cache
            t0 = time.perf_counter()
            r = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        results.append((name, statistics.median(timings), p99, r.headers.get("Total", "-")))
        print(f"  {name:<52} {results[-1][1]:>8.1f} {p99:>8.1f} {TARGET_MS:>7.0f} {'ok' if p99 < TARGET_MS else 'SLOW':>5}"
              f" {results[-1][3]:>9}", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--cached", action="store_true",
                        help="let repeated admin GETs hit the per-worker body cache (default: clear it before each call)")
    args = parser.parse_args(argv)
    _ensure_database(PG_URL)
    print(f"== PostgreSQL: {PG_URL}, {args.users:,} users", flush=True)
    app = make_app(PG_URL)
    seed(app, args.users, args.reseed)
    print(f"  {'scenario':<52} {'p50 ms':>8} {'p99 ms':>8} {'target':>7} {'':>5} {'Total':>9}")
    results = run(app, args.iterations, args.only, args.cached)
    slow = [name for name, _, p99, _ in results if p99 >= TARGET_MS]
    print(f"  {len(results) - len(slow)} of {len(results)} under {TARGET_MS:.0f} ms p99"
          + (f"; over: {', '.join(slow)}" if slow else ""))
    with app.app_context():
        from barong.extensions import db

        db.session.remove()
        db.engine.dispose()
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
