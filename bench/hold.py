#!/usr/bin/env python3
"""Keep a seeded library up while you iterate on performance (not a measurement).

    python bench/hold.py --size 100000 --env-file /tmp/reactbin-bench.env

Starts PostgreSQL + SeaweedFS like `run.py`, migrates, seeds the library (the
same rows and objects as `run.py`), writes the server environment to
`--env-file` (`KEY=value` lines, for `env $(cat FILE) reactbin serve ...`) and
waits until Ctrl-C / SIGTERM, then stops everything and deletes the temp dirs.
Migrations added meanwhile: rerun `reactbin migrate` with that environment.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import corpus, media, seed, services  # noqa: E402

MAX_HOLD_S = 8 * 3600  # never outlive a working day, even if forgotten


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--env-file", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="reactbin-hold-"))
    try:
        with services.backing_services() as environment:
            env = services.server_environment(
                environment.env, workdir / "data", secrets.token_urlsafe(24)
            )
            services.migrate(env, workdir)
            library = seed.Library(corpus.Corpus(), media.make_pool(), media.make_large())
            s3 = seed.S3Writer(
                env["S3_ENDPOINT_URL"],
                env["S3_BUCKET_NAME"],
                env["S3_ACCESS_KEY_ID"],
                env["S3_SECRET_ACCESS_KEY"],
                env["S3_REGION"],
            )

            async def grow() -> None:
                async with s3:
                    await seed.grow(library, args.size, env["DATABASE_URL"], s3, lambda *_: None)

            started = time.perf_counter()
            asyncio.run(grow())
            print(f"hold: seeded {args.size:,} images in {time.perf_counter() - started:.0f} s")
            lines = [f"{k}={v}" for k, v in env.items() if k not in ("PATH", "HOME")]
            args.env_file.write_text("\n".join(lines) + "\n")
            print(f"hold: environment in {args.env_file}; Ctrl-C to stop", flush=True)
            deadline = time.monotonic() + MAX_HOLD_S
            while not stop.is_set() and time.monotonic() < deadline:
                time.sleep(0.5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        args.env_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
