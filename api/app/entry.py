"""The `reactbin` console script: `import`, `export` and `restore` start without the server.

They only talk HTTP, so they skip the server's imports (FastAPI, SQLAlchemy, the
image stack: seconds on a small machine) and start in about a second.
"""

from __future__ import annotations

import sys

CLIENT_COMMANDS = ("import", "export", "restore")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in CLIENT_COMMANDS:
        from app.transfer.cli import client_cli

        client_cli(prog_name="reactbin")
        return
    from app.cli import main as server_main

    server_main()
