"""`reactbin serve --workers N`: N server processes on one port of one machine."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil

from tests.cluster.conftest import in_thread, rig


def serve(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [rig.reactbin_executable(), "serve", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def test_workers_serve_on_one_port_and_stop_together(
    cluster: rig.Cluster, tmp_path: Path
) -> None:
    port = rig.testenv.free_ports(1)[0]
    log = tmp_path / "serve.log"
    server = serve(cluster.env, log, "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if rig.http_status(port, "/readyz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.2)
        children = psutil.Process(server.pid).children()
        assert len([c for c in children if "python" in c.name() or "reactbin" in c.name()]) >= 2
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(10):
                assert (await http.get("/api/v1/images")).status_code == 200
        server.send_signal(signal.SIGTERM)
        assert await in_thread(server.wait, 60) == 0
        _gone, alive = await in_thread(psutil.wait_procs, children, 15)
        # A zombie has exited (the supervisor is gone, so no one reaps it but the test runner).
        running = [c for c in alive if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert running == [], "every server process exits with the supervisor"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_workers_with_the_embedded_database_are_refused_clearly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [rig.reactbin_executable(), "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--workers needs DATABASE_URL" in result.stderr
    assert not any(os.scandir(str(tmp_path))), "nothing was started"
