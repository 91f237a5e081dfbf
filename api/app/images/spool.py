"""An upload spooled to a temp file: what `receive.py` makes of the request, and what
the upload service (`preparation.py`, `upload.py`) works on, with no web framework."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TEMP_PREFIX = "reactbin-upload-"
# The working directories of background jobs (text recognition, renditions), in the
# same directory. A worker killed in the middle of a job leaves its directory; the job
# itself is recovered and run again elsewhere, in a directory of its own.
TEXT_JOB_DIR_PREFIX = "reactbin-job-"
RENDITIONS_JOB_DIR_PREFIX = "reactbin-renditions-"
# Far longer than any job runs (a 20 MB GIF's video renditions take minutes on a
# small machine), so that a worker starting beside a busy one never takes its
# directory away.
JOB_DIR_STALE_S = 6 * 3600.0


@dataclass
class ReceivedUpload:
    """The parsed form. `file_path` is a temp file the caller must `discard()`."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str | None = None
    file_size: int = 0

    def discard(self) -> None:
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)
            self.file_path = None


def sweep_stale_spool_files(tmp_dir: Path | None, older_than_seconds: float) -> int:
    """Delete upload spool files a killed process left behind; returns how many.

    Only files older than any live upload can be (the total upload timeout plus
    the storage time) are touched, so several processes may share the directory."""
    directory = Path(tmp_dir or tempfile.gettempdir())
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in directory.glob(f"{TEMP_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # raced with another process, or not ours to delete
            continue
    return removed


def sweep_stale_job_dirs(tmp_dir: Path | None, older_than_seconds: float = JOB_DIR_STALE_S) -> int:
    """Delete the job directories killed workers left behind; returns how many.

    A directory counts as stale when neither it nor anything in it changed for
    `older_than_seconds`: a job writes its files as it goes."""
    directory = Path(tmp_dir or tempfile.gettempdir())
    cutoff = time.time() - older_than_seconds
    removed = 0
    for prefix in (TEXT_JOB_DIR_PREFIX, RENDITIONS_JOB_DIR_PREFIX):
        for path in directory.glob(f"{prefix}*"):
            try:
                if not path.is_dir() or path.is_symlink():
                    continue
                newest = max([path.stat().st_mtime, *(p.lstat().st_mtime for p in path.rglob("*"))])
                if newest < cutoff:
                    shutil.rmtree(path)
                    removed += 1
            except OSError:  # raced with another worker, or not ours to delete
                continue
    return removed
