"""barong.serve's supervisor (what `make run` runs when RabbitMQ is configured): both
children stop on SIGTERM/SIGINT, a crashed dispatcher is restarted, no orphans remain."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from barong.config import ROOT

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    name, folder, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *a: (open(os.path.join(folder, f"{name}.{os.getpid()}.stopped"), "w").close(), sys.exit(0)))
    open(os.path.join(folder, f"{name}.{os.getpid()}"), "w").close()  # "ready": after the handler is set
    if mode == "crash":
        time.sleep(0.3); sys.exit(3)
    while True:
        time.sleep(0.05)
""")


def _start(tmp_path: Path, dispatcher_mode="run"):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    web = [sys.executable, str(script), "web", str(tmp_path), "run"]
    disp = [sys.executable, str(script), "dispatcher", str(tmp_path), dispatcher_mode]
    code = (f"import sys; from barong.serve import Supervisor; "
            f"sys.exit(Supervisor({web!r}, {disp!r}).run())")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)


def _pids(tmp_path: Path, name: str) -> list[int]:
    return [int(p.name.split(".")[1]) for p in tmp_path.glob(f"{name}.*") if not p.name.endswith(".stopped")]


def _wait(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of an exited parent is reaped by init soon; count it as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_web_and_dispatcher_gracefully(tmp_path, sig):
    sup = _start(tmp_path)
    assert _wait(lambda: _pids(tmp_path, "web") and _pids(tmp_path, "dispatcher"))
    children = _pids(tmp_path, "web") + _pids(tmp_path, "dispatcher")
    sup.send_signal(sig)
    assert sup.wait(timeout=20) == 0
    assert len(list(tmp_path.glob("*.stopped"))) == 2  # both got SIGTERM (graceful), not a kill
    assert not any(_alive(pid) for pid in children)


def test_crashed_dispatcher_is_restarted(tmp_path):
    sup = _start(tmp_path, dispatcher_mode="crash")
    try:
        assert _wait(lambda: len(_pids(tmp_path, "dispatcher")) >= 2)
        assert len(_pids(tmp_path, "web")) == 1  # the web server was left alone
    finally:
        sup.terminate()
        sup.wait(timeout=10)
    assert not any(_alive(pid) for pid in _pids(tmp_path, "web") + _pids(tmp_path, "dispatcher"))


def test_children_die_with_a_killed_supervisor(tmp_path):
    """kill -9 of the supervisor: PR_SET_PDEATHSIG stops the children, no orphans."""
    sup = _start(tmp_path)
    assert _wait(lambda: _pids(tmp_path, "web") and _pids(tmp_path, "dispatcher"))
    children = _pids(tmp_path, "web") + _pids(tmp_path, "dispatcher")
    sup.kill()
    sup.wait()
    assert _wait(lambda: not any(_alive(pid) for pid in children))


def test_background_processes_beside_gunicorn():
    """`make run`: the KYC expiry watcher runs beside gunicorn (and the dispatcher with RabbitMQ)."""
    from barong import serve

    assert list(serve.background_argv({})) == ["kyc-expiry"]
    assert serve.background_argv({})["kyc-expiry"][-2:] == ["kyc", "watch"]
    assert list(serve.background_argv({"BARONG_EVENT_API_RABBITMQ_HOST": "h"})) == ["dispatcher", "kyc-expiry"]
    assert serve.background_argv({"BARONG_KYC_EXPIRY_WATCH": "false"}) == {}


def test_every_background_process_is_supervised(tmp_path):
    """Two background children: both started, both stopped by SIGTERM, a crashed one restarted."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    web = [sys.executable, str(script), "web", str(tmp_path), "run"]
    jobs = {"dispatcher": [sys.executable, str(script), "dispatcher", str(tmp_path), "run"],
            "kyc": [sys.executable, str(script), "kyc", str(tmp_path), "crash"]}
    code = f"import sys; from barong.serve import Supervisor; sys.exit(Supervisor({web!r}, {jobs!r}).run())"
    sup = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        assert _wait(lambda: _pids(tmp_path, "web") and _pids(tmp_path, "dispatcher") and
                     len(_pids(tmp_path, "kyc")) >= 2)
    finally:
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=20) == 0
    assert len(_pids(tmp_path, "dispatcher")) == 1 and len(_pids(tmp_path, "web")) == 1
    assert not any(_alive(p) for n in ("web", "dispatcher", "kyc") for p in _pids(tmp_path, n))
