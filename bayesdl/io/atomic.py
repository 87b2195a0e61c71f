"""Atomic file writes: a reader sees the old content or the new, never half of it, and nothing is left over.

The new content goes to a temporary file beside the target, named ``.NAME.bayesdl-tmp-HOST-PID-RAND``, which
is renamed over the target once it is complete. A writer that is killed (SIGKILL, power loss) before the
rename leaves its temporary file behind; the next successful write to the same target removes such leftovers
when their writer is certainly gone: same host and the process id no longer exists, or older than
:data:`STALE_AFTER_SECONDS`. Only names of this exact pattern (and the ``.NAME.XXXXXXXX.tmp`` names of older
bayesdl versions, by age) are ever removed.

Files are created with mode ``0o666`` filtered by the process umask (0644 under the usual 022), like any
file opened with ``open(path, "w")``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import socket
import tempfile  # noqa: F401  (used by the doctests)
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InputError

STALE_AFTER_SECONDS = 24 * 3600.0
_TMP_MARK = ".bayesdl-tmp-"
_REFUSALS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR}


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}{_TMP_MARK}{_host_tag()}-{os.getpid()}-{secrets.token_hex(6)}")


def _refuse(path: Path, err: OSError) -> InputError:
    return InputError(
        f"cannot write {path}: {err.strerror or err} (path must be a file in a writable folder)"
    )


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place.

    Readers never see a half-written file under ``path``: it holds either the old or the new content. Stale
    temporary files of killed writers to the same target are removed after the rename.

    Arguments:
        path: the destination file; missing parent folders are created.
        data: the bytes to write.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        InputError: if ``path`` is a folder, or its folder cannot be created or written.

    Example:
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     target = atomic_write_bytes(Path(tmp) / "sub" / "blob.bin", b"abc")
        ...     print(target.read_bytes(), sorted(p.name for p in target.parent.iterdir()))
        b'abc' ['blob.bin']
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_name(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as err:
        if err.errno in _REFUSALS or isinstance(err, FileExistsError):
            raise _refuse(path, err) from err
        raise

    def fill(target: Path) -> None:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return _publish(tmp, path, fill)


def atomic_write_with(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Let ``write(temporary_path)`` create the file (for writers that need a path, such as netCDF), then
    rename it into place; on any error the temporary file is removed and ``path`` is untouched.

    Arguments:
        path: the destination file; missing parent folders are created.
        write: called once with a fresh temporary path beside ``path``.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        InputError: if ``path`` is a folder, or its folder cannot be created or written.

    Example:
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     target = atomic_write_with(Path(tmp) / "a.txt", lambda p: p.write_text("hi"))
        ...     print(target.read_text(), oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask()))
        hi True
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if err.errno in _REFUSALS or isinstance(err, FileExistsError):
            raise _refuse(path, err) from err
        raise

    def fill(target: Path) -> None:
        write(target)
        os.chmod(target, 0o666 & ~_umask())  # a writer may create its file 0600, as mkstemp does

    return _publish(_temp_name(path), path, fill)


def _publish(tmp: Path, path: Path, fill: Callable[[Path], Any]) -> Path:
    """Fill the temporary ``tmp``, rename it onto ``path`` and sync the folder; on any failure remove ``tmp`` (a
    refusal by the file system becomes an InputError naming ``path``). The one commit step of both writers."""
    try:
        fill(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError) and err.errno in _REFUSALS:
            raise _refuse(path, err) from err
        raise
    _fsync_folder(path.parent)
    remove_stale_temporaries(path)
    return path


def _umask() -> int:
    """The process umask: from /proc on Linux, else by setting it and setting it back."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically.

    Arguments:
        path: the destination file.
        obj: a JSON-serialisable value.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Example:
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print(json.loads(atomic_write_json(Path(tmp) / "m.json", {"nll": 0.5}).read_text()))
        {'nll': 0.5}
    """
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _process_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike, *, now: float | None = None) -> list[Path]:
    """Remove temporary files that killed writers left beside ``path``.

    A file ``.NAME.bayesdl-tmp-HOST-PID-RAND`` is stale when it was written on this host by a process that
    no longer exists, or when it is older than :data:`STALE_AFTER_SECONDS` (a writer on another host, or a
    process id that has been reused). Temporaries of older bayesdl versions (``.NAME.XXXXXXXX.tmp``) are
    removed by age only. Nothing else is touched.

    Arguments:
        path: the target file whose leftovers to remove.
        now: the current time (``time.time()``), for tests.

    Returns:
        The files removed.
    """
    path = Path(path)
    now = time.time() if now is None else now
    ours = re.compile(rf"^\.{re.escape(path.name)}{re.escape(_TMP_MARK)}([0-9a-f]{{8}})-(\d+)-[0-9a-f]+$")
    legacy = re.compile(rf"^\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp$")
    host = _host_tag()
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        match = ours.match(entry.name)
        if match is None and legacy.match(entry.name) is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_SECONDS
        except OSError:
            continue
        dead = False
        if match is not None and match.group(1) == host:
            pid = int(match.group(2))
            dead = pid != os.getpid() and not _process_exists(pid)
        if dead or old:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed
