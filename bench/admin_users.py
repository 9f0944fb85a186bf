"""Benchmark: `GET admin/users` (with and without filters) and `GET admin/metrics` on
100,000 users, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.admin_users                 # both databases
    .venv/bin/python -m bench.admin_users --db postgres   # one of them
    .venv/bin/python -m bench.admin_users --reseed        # drop and seed again

What it does:
* seeds 100,000 users (uid, email, role, level, state spread over a year), one profile
  each (country, encrypted names from 20 × 23 first/last names with their search
  index), a verified phone for level ≥ 2 and a document for level 3 (encrypted numbers
  with their CRC32 index), their private labels (email / phone / document, matching
  each user's level) and 2 activities each (signup, login — some failed) with bulk
  INSERTs (no argon2: every user gets the same fixed digest);
  SQLite goes to `instance/bench/admin_users.db`, PostgreSQL to the database
  `barong_bench` (created with psql when missing; `BENCH_PG_URL` overrides);
* builds the real app (`create_app`, the same config as `make run`) on that database,
  signs a superadmin in through `POST identity/sessions`, and calls the endpoints with
  the **Flask test client** — the whole request stack runs (session lookup, RBAC,
  parameter parsing, queries, JSON, commit), only the HTTP socket is skipped;
* times the one search box `q` (email part, uid, name, phone, document number, no
  match) next to the filters;
* prints p50 / p99 per scenario (after warm-up). By default it calls `gc.freeze()` after
  start-up, as a pre-loading server should; `--no-gc-freeze` measures without it.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_USERS = 100_000
PASSWORD = "Bench-Passw0rd-Strong"
ADMIN_EMAIL = "bench-admin@barong.io"
COUNTRIES = ["UA", "DE", "US", "GB", "FR", "JP", "PL", "ES", "IT", "NL"]
STATES = ["active"] * 80 + ["pending"] * 15 + ["banned"] * 3 + ["locked"] * 2
ROLES = ["member"] * 990 + ["admin"] * 4 + ["compliance"] * 3 + ["support"] * 3
FIRST_NAMES = ["Ivan", "Olena", "Taras", "Anna", "Mykola", "Iryna", "Petro", "Oksana", "Andrii", "Maria",
               "Dmytro", "Sofia", "Yurii", "Kateryna", "Serhii", "Natalia", "Oleh", "Yulia", "Bohdan", "Daria"]
LAST_NAMES = ["Petrenko", "Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Oliinyk",
              "Shevchuk", "Polishchuk", "Bondar", "Tkachuk", "Marchenko", "Lysenko", "Rudenko", "Savchenko",
              "Melnyk", "Moroz", "Koval", "Boiko", "Kovalchuk", "Hrytsenko", "Pavlenko", "Karpenko"]
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/barong_bench")
SQLITE_PATH = ROOT / "instance" / "bench" / "admin_users.db"


def _ensure_pg_database() -> None:
    exists = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                             "SELECT 1 FROM pg_database WHERE datname='barong_bench'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", "CREATE DATABASE barong_bench"],
                       check=True, capture_output=True)


def make_app(url: str):
    os.environ.setdefault("BARONG_SECRET_KEY_BASE", "bench-secret-key-base-0123456789-0123456789")
    from barong import create_app
    from barong.config import from_env

    cfg = from_env({**os.environ, "DATABASE_URL": url, "BARONG_RATELIMIT_ENABLED": "false"})
    return create_app(cfg)


def seed(app, reseed: bool) -> None:
    from sqlalchemy import func, insert, text

    from barong.extensions import db
    from barong.models import Activity, Document, Label, Phone, Profile, User
    from barong.models.base import name_key
    from barong.security import passwords
    from barong.security.crypto import crc32_index, encrypt
    from barong.services import seeding
    from barong.services.accounts import users
    from barong.services.infra import unit_of_work

    with app.app_context():
        if reseed:
            db.session.remove()
            db.drop_all()
        db.create_all()
        seeded = db.session.query(func.count(User.id)).scalar() or 0
        db.session.remove()  # release the read lock before DROP TABLE (PostgreSQL would wait on it)
        if seeded >= N_USERS:
            print(f"  (reusing the seeded {N_USERS:,} users; --reseed to start over)")
            return
        db.drop_all()
        db.create_all()
        seeding.seed()
        admin = users.create(ADMIN_EMAIL, PASSWORD, role="superadmin", state="active")
        from barong.services.accounts import labels

        labels.add(admin, "email", "verified", scope="private")
        users.apply_state(admin, "active")
        unit_of_work.commit()
        first_id = admin.id + 1
        rnd = random.Random(42)
        digest = passwords.hash_password(PASSWORD)
        enc_dob = encrypt("1990-01-01")
        names = {n: (encrypt(n), crc32_index(name_key(n))) for n in FIRST_NAMES + LAST_NAMES}
        now = datetime.utcnow().replace(microsecond=0)
        started = time.perf_counter()
        chunk = 10_000
        for base in range(0, N_USERS, chunk):
            user_rows, profile_rows, label_rows, activity_rows, phone_rows, doc_rows = [], [], [], [], [], []
            for i in range(base, min(base + chunk, N_USERS)):
                uid_num = first_id + i
                created = now - timedelta(seconds=rnd.randint(0, 365 * 86400))
                state = rnd.choice(STATES)
                level = 0 if state == "pending" else rnd.choice([1, 1, 1, 2, 2, 3])
                user_rows.append(dict(
                    id=uid_num, uid=f"ID{uid_num:010X}", email=f"user{i}@bench.example.com",
                    email_lower=f"user{i}@bench.example.com", password_digest=digest, role=rnd.choice(ROLES),
                    level=level, otp=False, state=state, failed_logins=0, created_at=created,
                    updated_at=created + timedelta(seconds=rnd.randint(0, 86400 * 30))))
                first, last = names[FIRST_NAMES[i % len(FIRST_NAMES)]], names[LAST_NAMES[i % len(LAST_NAMES)]]
                if level >= 2:  # a verified phone (E.164 digits, encrypted + CRC32 index)
                    number = f"38067{i:07d}"
                    phone_rows.append(dict(user_id=uid_num, country="UA", number_encrypted=encrypt(number),
                                           number_index=crc32_index(number), validated_at=created,
                                           created_at=created, updated_at=created))
                if level >= 3:  # a document with an encrypted, indexed number
                    doc_number = f"AB{i:07d}"
                    doc_rows.append(dict(user_id=uid_num, upload=f"bench-{i}.png", doc_type="Passport",
                                         doc_number_encrypted=encrypt(doc_number),
                                         doc_number_index=crc32_index(doc_number), created_at=created,
                                         updated_at=created))
                profile_rows.append(dict(
                    user_id=uid_num, first_name_encrypted=first[0], first_name_index=first[1],
                    last_name_encrypted=last[0], last_name_index=last[1],
                    dob_encrypted=enc_dob, city="Kyiv", postcode="01001", country=rnd.choice(COUNTRIES),
                    state_value=3 if level >= 3 else 1, created_at=created, updated_at=created))
                for lvl, (key, value) in enumerate((("email", "verified"), ("phone", "verified"),
                                                    ("document", "verified")), start=1):
                    if level >= lvl:
                        label_rows.append(dict(user_id=uid_num, key=key, value=value, scope="private",
                                               created_at=created, updated_at=created))
                if level == 2 and rnd.random() < 0.3:
                    label_rows.append(dict(user_id=uid_num, key="document", value="pending", scope="private",
                                           created_at=created, updated_at=created))
                common = dict(user_id=uid_num, category="user", user_ip="10.0.0.1", user_ip_country=None,
                              user_agent="Mozilla/5.0 bench")
                activity_rows.append(dict(common, topic="account", action="signup", result="succeed",
                                          created_at=created))
                activity_rows.append(dict(common, topic="session", action="login",
                                          result="failed" if rnd.random() < 0.1 else "succeed",
                                          created_at=created + timedelta(minutes=5)))
            db.session.execute(insert(User.__table__), user_rows)
            db.session.execute(insert(Profile.__table__), profile_rows)
            db.session.execute(insert(Label.__table__), label_rows)
            db.session.execute(insert(Activity.__table__), activity_rows)
            if phone_rows:
                db.session.execute(insert(Phone.__table__), phone_rows)
            if doc_rows:
                db.session.execute(insert(Document.__table__), doc_rows)
            from barong.services.verification import kyc_review

            kyc_review.refresh_all_waiting()  # users.kyc_waiting_since of the bulk-inserted applicants
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), "
                                    "(SELECT max(id) FROM users))"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"  seeded {N_USERS:,} users (+profiles, labels, phones, documents, {2 * N_USERS:,} activities) "
              f"in {time.perf_counter() - started:.1f} s")


def scenarios(app) -> list[tuple[str, str]]:
    from barong.extensions import db
    from barong.models import User

    with app.app_context():
        from urllib.parse import quote

        from barong.models import Document, Phone

        sample = db.session.query(User).filter(User.email.like("user%")).order_by(User.id.desc()).first()
        phone = db.session.query(Phone).order_by(Phone.id.desc()).first()
        document = db.session.query(Document).order_by(Document.id.desc()).first()
        digits = phone.number if phone else "380670000000"
        pretty_phone = quote(f"+{digits[:3]} {digits[3:5]} {digits[5:8]} {digits[8:]}")
        doc_number = document.doc_number.lower() if document else "ab0000000"
    now = int(time.time())
    return [
        ("users (no filter)", "/api/v2/barong/admin/users"),
        ("users page 500 (offset 49,900)", "/api/v2/barong/admin/users?page=500"),
        ("users email=", f"/api/v2/barong/admin/users?email={sample.email}"),
        ("users level=2", "/api/v2/barong/admin/users?level=2"),
        ("users state=banned", "/api/v2/barong/admin/users?state=banned"),
        ("users role=admin", "/api/v2/barong/admin/users?role=admin"),
        ("users range=created from/to (30 d)",
         f"/api/v2/barong/admin/users?range=created&from={now - 60 * 86400}&to={now - 30 * 86400}"),
        ("users range=updated from (7 d)", f"/api/v2/barong/admin/users?range=updated&from={now - 7 * 86400}"),
        ("users level=1&state=active desc", "/api/v2/barong/admin/users?level=1&state=active&ordering=desc"),
        ("users country=UA", "/api/v2/barong/admin/users?country=UA"),
        ("users extended=true", "/api/v2/barong/admin/users?extended=true"),
        ("users/documents/pending", "/api/v2/barong/admin/users/documents/pending"),
        ("metrics", "/api/v2/barong/admin/metrics"),
        # the one search box (`q`, the console's users list uses the same service)
        ("q= email part", f"/api/v2/barong/admin/users?q={sample.email.split('@')[0]}@"),
        ("q= uid (lower case)", f"/api/v2/barong/admin/users?q={sample.uid.lower()}"),
        ("q= name (first last)", "/api/v2/barong/admin/users?q=Olena%20Shevchenko"),
        ("q= last name", "/api/v2/barong/admin/users?q=kovalenko"),
        ("q= phone (+380 67 …)", f"/api/v2/barong/admin/users?q={pretty_phone}"),
        ("q= document number", f"/api/v2/barong/admin/users?q={doc_number}"),
        ("q= no match", "/api/v2/barong/admin/users?q=nobody-at-all"),
        ("q= name & state=active", "/api/v2/barong/admin/users?q=Olena%20Shevchenko&state=active"),
    ]


def run(app, iterations: int, gc_freeze: bool = True) -> list[tuple[str, float, float, int]]:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 bench"
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    if gc_freeze:
        # what a pre-loading server does once at start-up: move the start-up heap out of the
        # cyclic GC's reach, so a full (gen 2) collection walks only per-request garbage
        # (~0.5 ms instead of ~90 ms here; those pauses are the p99 outliers otherwise)
        import gc

        gc.collect()
        gc.freeze()
    results = []
    for name, url in scenarios(app):
        for _ in range(5):  # warm-up
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:200])
        timings = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            r = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        results.append((name, p50, p99, int(r.headers.get("Total", 0) or 0)))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="measure without gc.freeze() after start-up (p99 then shows full-GC pauses)")
    args = parser.parse_args(argv)
    targets = []
    if args.db in ("sqlite", "both"):
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        targets.append(("SQLite", f"sqlite:///{SQLITE_PATH}"))
    if args.db in ("postgres", "both"):
        _ensure_pg_database()
        targets.append(("PostgreSQL", PG_URL))
    for label, url in targets:
        print(f"== {label}: {url}", flush=True)
        app = make_app(url)
        seed(app, args.reseed)
        results = run(app, args.iterations, gc_freeze=not args.no_gc_freeze)
        print(f"  {'scenario':<40} {'p50 ms':>8} {'p99 ms':>8} {'Total':>8}")
        for name, p50, p99, total in results:
            print(f"  {name:<40} {p50:>8.1f} {p99:>8.1f} {total:>8}")
        with app.app_context():
            from barong.extensions import db

            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
