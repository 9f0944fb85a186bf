"""Load-independent figures for admin/users at 1,000,000 users (issue 18): every SQL
statement `admin_users.search` runs for a scenario, re-run under EXPLAIN (ANALYZE, BUFFERS),
summed as shared buffers touched (hit + read), for the current code and for the code at an
older commit (its admin_users module loaded from git), on the same `bench.scale` database.

    .venv/bin/python -m bench.scale_buffers                 # old = e3cacd9 (before issue 18's search work)
    .venv/bin/python -m bench.scale_buffers --old <commit>

Buffers do not move with the machine's load, unlike the milliseconds printed beside them.
The old code runs on today's schema (its indexes help it where they can), so the old column
is what the old SQL costs now, not a replay of the old schema. Seed first with `bench.scale`.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile

from bench.scale import PG_URL, make_app

#: (name, admin/users params); the console rows are its defaults (created_at desc, 25 a page)
SCENARIOS = [
    ("admin/users (no filter)", ""),
    ("admin/users page=5000", "page=5000"),
    ("admin/users country=UA", "country=UA"),
    ("admin/users country=UA&level=3", "country=UA&level=3"),
    ("admin/users order_by=email desc", "order_by=email&ordering=desc"),
    ("admin/users q= email part", "q=user999999@"),
    ("admin/users q= uid", "q=id00000f4241"),
    ("admin/users q= name (first last)", "q=Olena Shevchenko"),
    ("admin/users q= last name", "q=kovalenko"),
    ("admin/users q= no match", "q=nobody-at-all"),
    ("admin/users q= name & state=active", "q=Olena Shevchenko&state=active"),
    ("console q= email part", "q=user999999@&order_by=created_at&ordering=desc&limit=25"),
    ("console q= uid", "q=ID00000F4241&order_by=created_at&ordering=desc&limit=25"),
    ("console q= name", "q=Olena Shevchenko&order_by=created_at&ordering=desc&limit=25"),
]


def _old_module(commit: str):
    source = subprocess.run(["git", "show", f"{commit}:barong/services/operators/admin_users.py"],
                            capture_output=True, text=True, check=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location("admin_users_at_" + commit, fh.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default="e3cacd9", help="commit whose admin_users is the old column")
    args = parser.parse_args(argv)
    app = make_app(PG_URL)
    from sqlalchemy import event, text

    from barong.extensions import db
    from barong.services.operators import admin_users as new

    old = _old_module(args.old)

    def statements(fn) -> list:
        seen = []

        def hook(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", hook)
        try:
            fn()
        finally:
            event.remove(db.engine, "before_cursor_execute", hook)
        return seen

    def cost(seen) -> tuple[int, float]:
        buffers = ms = 0
        conn = db.session.connection()
        for statement, parameters in seen:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).scalar()
            plan = (plan if isinstance(plan, list) else json.loads(plan))[0]
            buffers += plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
            ms += plan["Execution Time"]
        return buffers, ms

    with app.app_context():
        db.session.execute(text("SELECT 1"))  # the dialect reads the server's settings first
        print(f"  {'scenario':<40} {'old buffers':>12} {'new buffers':>12} {'old ms':>9} {'new ms':>9}")
        for name, qs in SCENARIOS:
            params = dict(pair.split("=", 1) for pair in qs.split("&")) if qs else {}
            page, limit = int(params.get("page", 1)), int(params.get("limit", 100))

            def run_old():
                q, conds, _ = old.search_query(params)
                q.limit(limit).offset((page - 1) * limit).all()
                old.count(conds)

            def run_new():
                new.search(params, page, limit)

            figures = []
            for fn in (run_old, run_new):
                fn()  # warm the cache and the plans
                db.session.rollback()
                figures.append(cost(statements(fn)))
                db.session.rollback()
            (ob, oms), (nb, nms) = figures
            print(f"  {name:<40} {ob:>12,} {nb:>12,} {oms:>9.1f} {nms:>9.1f}", flush=True)
        db.session.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
