"""Writing outputs: whole output sets as transactions, files atomically, names safely.

**Output sets.** A command's outputs (an allocation's targets.csv, explain.csv,
summary.json...) are one set: a reader must never see the new targets beside the
old summary. :func:`output_set` makes writing a set a transaction::

    with output_set(out, kind="payouts", inputs=[plan, targets], force=force) as stage:
        files = stage.final(result.write_files(stage.path))

The set is written into a staging folder beside ``out`` (same file system);
only when the block finishes without an error is a manifest
(:data:`MANIFEST`) written into it, and the staging folder swapped with
``out`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two
renames with SIGINT held back between them). The previous set is then
deleted. So an error, Ctrl-C or a kill at any moment leaves ``out`` holding
the previous complete set or the new complete set, never a mix, and stale
files of an earlier run never survive beside a new one (the new set replaces
the folder). A run killed with SIGKILL can leave its hidden staging folder
(``.NAME.attain-stage-PID-…``) beside ``out``; the next run on that folder
removes it.

Swapping whole folders was chosen over "write a manifest last and delete
what it does not list" because only the swap keeps the previous set readable
while the new one is written: with a manifest, an interrupted run has already
overwritten some of the previous files.

Because the swap replaces the folder, ``out`` must be safe to replace. A
command refuses (:class:`~attain.errors.OutputError`, exit 2) a folder that

* holds one of its own inputs,
* holds another kind of output (its manifest says so), or
* is not empty and holds no attain output at all (a typo such as ``--out .``),

unless told ``force=True`` (``--force``): then the new set is written into
the folder and every other entry already there (inputs, other outputs) is
kept, carried into the new folder by hard link; only the files of an earlier
set of the same kind are replaced. :func:`check_output_set` makes the same
check without writing anything: a command calls it before it computes, so a
refused folder is reported at once, not after a long solve or simulation
(``output_set`` checks again when it writes, for a folder changed meanwhile).

**Files.** Every single file is written to a temporary name and renamed over
its final name once complete (:func:`atomic_path`); writers are byte-stable,
so the same inputs give byte-identical files.

**Names.** Ids that become file names (statements/<rep_id>.md) go through
:func:`safe_filename`, a reversible percent-encoding (:func:`unsafe_filename`
inverts it), so no id can name a path outside the folder.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from attain.errors import OutputError, Problem

__all__ = [
    "MANIFEST",
    "OutputSet",
    "atomic_path",
    "check_output_set",
    "output_set",
    "read_manifest",
    "safe_filename",
    "unsafe_filename",
    "write_csv",
    "write_json",
    "write_text",
]

#: The manifest every output set holds: its kind and each file's size and SHA-256.
MANIFEST = ".attain-output.json"
_STAGE = re.compile(r"^\.(?P<name>.+)\.attain-(?:stage|old)-(?P<pid>\d+)-[^/]*$")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """JSON with sorted keys and a final newline, so equal data gives equal bytes."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_csv(path: str | Path, frame: pd.DataFrame, float_format: str | None = None) -> Path:
    fast = _plain_csv(frame)
    with atomic_path(path) as tmp:
        if fast is not None:
            tmp.write_bytes(fast)
        else:
            frame.to_csv(tmp, index=False, lineterminator="\n", float_format=float_format)
    return Path(path)


#: What makes the csv module quote a field (``QUOTE_MINIMAL``, ``,`` and ``\n``).
_NEEDS_QUOTES = '[,"\r\n]'


def _plain_csv(frame: pd.DataFrame) -> bytes | None:
    """``frame.to_csv(index=False, lineterminator="\\n")``'s bytes, joined by Arrow, for a
    table of integer and text columns with no empty cell and nothing to quote (a
    targets table: 600,000 rows at 10,000 reps, ~0.7 s through pandas, ~0.1 s here).
    None for any other table: pandas writes it."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    names = [str(c) for c in frame.columns]
    if not len(frame) or len(names) < 2 or not frame.columns.is_unique:
        return None
    if any(re.search(_NEEDS_QUOTES, n) or not n for n in names):
        return None
    columns = []
    for j in range(len(names)):
        values = frame.iloc[:, j]
        dtype = values.dtype
        try:
            if isinstance(dtype, np.dtype) and dtype.kind in "iu":
                column = pa.array(values.to_numpy()).cast(pa.large_string())
            elif pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
                column = pa.array(values, type=pa.large_string(), from_pandas=True)
            else:
                return None
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # an object column holding other things than text
        if isinstance(column, pa.ChunkedArray):  # a column pandas holds in Arrow already
            column = column.combine_chunks()
        if column.null_count or pc.min(pc.binary_length(column)).as_py() == 0:
            return None
        if pc.any(pc.match_substring_regex(column, _NEEDS_QUOTES)).as_py():
            return None
        columns.append(column)
    text = pa.large_string()
    body = pc.binary_join_element_wise(*columns, pa.scalar(",", text))
    lines = pc.binary_join_element_wise(body, pa.scalar("", text), pa.scalar("\n", text))
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    # A string array without nulls is its values back to back: the file's body.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    header = (",".join(names) + "\n").encode("utf-8")
    return header + memoryview(lines.buffers()[2])[start:end].tobytes()


# --- safe file names -------------------------------------------------------------------

_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))} | {
    f"lpt{i}" for i in range(10)
}


def safe_filename(name: str) -> str:
    """``name`` as one file-name component that stays inside its folder, on any system.

    Letters and digits (of any script), ``-``, ``_``, ``.`` and ``+`` are kept; every
    other character becomes ``%XX`` per UTF-8 byte (``/`` → ``%2F``, ``%`` → ``%25``),
    as do a leading ``.`` (no hidden files, no ``.``/``..``), a trailing ``.`` and the
    first letter of a Windows device name (``CON`` → ``%43ON``). An empty name is
    ``%``. Reversible: ``unsafe_filename(safe_filename(x)) == x``.
    """
    if not name:
        return "%"
    chars = [c if c.isalnum() or c in "-_.+" else _quote(c) for c in name]
    if chars[0] == ".":
        chars[0] = "%2E"
    if chars[-1] == ".":
        chars[-1] = "%2E"
    if name.split(".")[0].lower() in _WINDOWS_DEVICES:
        chars[0] = _quote(name[0])
    return "".join(chars)


def unsafe_filename(stem: str) -> str:
    """The name :func:`safe_filename` encoded as ``stem``."""
    return "" if stem == "%" else unquote(stem, errors="surrogatepass")


def _quote(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))


# --- output sets -----------------------------------------------------------------------


class OutputSet:
    """The staging folder of an output set being written (see :func:`output_set`)."""

    def __init__(self, path: Path, out: Path):
        self.path = path
        """Write the set's files here."""
        self.out = out
        """Where the set will be once complete."""

    def final(self, paths: Iterable[str | Path]) -> list[Path]:
        """Staged paths as they will be named once the set is in place (for messages)."""
        return [self.out / Path(p).relative_to(self.path) for p in paths]


@contextmanager
def output_set(
    out: str | Path,
    kind: str,
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
) -> Iterator[OutputSet]:
    """Write an output set of ``kind`` as a transaction: all of it into ``out``, or nothing.

    ``inputs`` are the run's input paths: ``out`` must not hold one unless
    ``force``. Raises :class:`~attain.errors.OutputError` when ``out`` may not
    be replaced or cannot be written.
    """
    shown = Path(out)
    target = _target(shown)
    _recover(target)
    kept = _check_target(target, shown, kind, _paths(inputs), force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(
            tempfile.mkdtemp(
                prefix=f".{target.name}.attain-stage-{os.getpid()}-", dir=target.parent
            )
        )
    except OSError as exc:
        raise _output_error(shown, exc) from None
    try:
        os.chmod(stage, 0o777 & ~_umask())
        try:
            yield OutputSet(stage, shown)
        except OSError as exc:
            # a full disk met by a writer that does not name its file (pandas' to_csv)
            storage = exc.filename is None and exc.errno in _STORAGE_ERRNOS
            if storage or _inside(exc.filename, stage):
                raise _output_error(shown, exc) from None
            raise
        try:
            files = _digests(stage)
            carried = _carry(target, stage, kept)
            _write_manifest(stage, kind, files, carried)
            _swap(stage, target)
        except OSError as exc:
            raise _output_error(shown, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def check_output_set(
    out: str | Path,
    kind: str,
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
) -> None:
    """Raise the :class:`~attain.errors.OutputError` :func:`output_set` would raise for
    ``out`` before writing anything: a folder holding an input of the run, another kind
    of output or unrelated files (unless ``force``), a file in its place or above it.

    Writes nothing and changes nothing; call it before the work whose result goes there.
    """
    shown = Path(out)
    target = _target(shown)
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(
            [
                Problem(
                    str(shown),
                    f"cannot use this folder for the output: {blocker} is a file, not a folder",
                    code="out-unwritable",
                )
            ]
        )
    _check_target(target, shown, kind, _paths(inputs), force)


def _paths(inputs: Iterable[str | Path | None]) -> list[Path]:
    return [Path(p) for p in inputs if p is not None]


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The manifest of the output set in ``folder``, or None (none, or unreadable)."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("kind"), str) else None


def _target(out: Path) -> Path:
    """The folder to replace: ``out`` made absolute, a symlink to a folder followed."""
    out = Path(os.path.abspath(out))
    return Path(os.path.realpath(out)) if out.is_symlink() else out


def _check_target(
    target: Path, shown: Path, kind: str, inputs: list[Path], force: bool
) -> set[str]:
    """Refuse a folder that must not be replaced; return the entries ``force`` keeps."""
    if target.exists() and not target.is_dir():
        raise OutputError([Problem(str(shown), "is a file, not a folder", code="out-not-folder")])
    hint = (
        "choose another --out folder, or add --force to write into this one and keep what is there"
    )
    problems = []
    for path in inputs:
        if _inside(os.path.realpath(path), target) or _inside(os.path.abspath(path), target):
            problems.append(
                Problem(
                    str(shown),
                    f"holds an input of this run ({path}); writing here would replace it",
                    code="out-holds-input",
                    hint=hint,
                )
            )
    try:
        entries = sorted(os.listdir(target)) if target.is_dir() else []
    except OSError as exc:
        raise _output_error(shown, exc) from None
    manifest = read_manifest(target) if entries else None
    carry = set(entries) - {MANIFEST}
    if manifest is not None and manifest["kind"] == kind:
        listed = {str(f.get("path", "")).split("/")[0] for f in manifest.get("files", [])}
        kept = set(manifest.get("kept", [])) & carry
        unknown = sorted(carry - listed - kept)
        carry = kept | (set(unknown) if force else set())
        if unknown:
            problems.append(
                Problem(
                    str(shown),
                    f"holds files that are not part of its earlier {kind} output "
                    f"({', '.join(unknown[:3])}{', ...' if len(unknown) > 3 else ''})",
                    code="out-not-empty",
                    hint=hint,
                )
            )
    elif manifest is None and entries:
        shown_entries = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        problems.append(
            Problem(
                str(shown),
                f"is not empty and holds no attain output ({len(entries)} entries: "
                f"{shown_entries})",
                code="out-not-empty",
                hint=hint,
            )
        )
    elif manifest is not None and manifest["kind"] != kind:
        problems.append(
            Problem(
                str(shown),
                f"holds the {manifest['kind']} output of another run; this run writes {kind}",
                code="out-other-kind",
                hint=hint,
            )
        )
    if problems and not force:
        raise OutputError(problems)
    return carry if force or (manifest is not None and manifest["kind"] == kind) else set()


def _inside(path: object, folder: Path) -> bool:
    if not isinstance(path, str | os.PathLike):
        return False
    path = os.path.abspath(os.fspath(path))
    folder_text = os.fspath(folder)
    return path == folder_text or path.startswith(folder_text.rstrip(os.sep) + os.sep)


def _carry(target: Path, stage: Path, kept: set[str]) -> list[str]:
    """Link every entry to keep that the new set does not replace into the stage."""
    carried = []
    for name in sorted(kept):
        if os.path.lexists(stage / name) or name == MANIFEST:
            continue
        carried.append(name)
        source = target / name
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, stage / name, symlinks=True, copy_function=_link_or_copy)
        elif source.is_symlink():
            os.symlink(os.readlink(source), stage / name)
        else:
            _link_or_copy(source, stage / name)
    return carried


def _link_or_copy(source: str | Path, dest: str | Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _digests(stage: Path) -> list[dict[str, Any]]:
    """Each file of the set: its path (with ``/``), size and SHA-256, in path order."""
    files = []
    for root, dirs, names in os.walk(stage):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            rel = path.relative_to(stage).as_posix()
            if rel == MANIFEST or path.is_symlink():
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(chunk)
            files.append({"path": rel, "bytes": path.stat().st_size, "sha256": digest.hexdigest()})
    return files


def _write_manifest(stage: Path, kind: str, files: list[dict[str, Any]], kept: list[str]) -> None:
    from attain import __version__

    manifest: dict[str, Any] = {"attain": __version__, "kind": kind, "files": files}
    if kept:
        manifest["kept"] = kept  # entries of the folder kept by --force, not of this set
    path = write_json(stage / MANIFEST, manifest)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _swap(stage: Path, target: Path) -> None:
    """Put ``stage`` in ``target``'s place; ``stage`` then holds the previous set (if any)."""
    with _signals_held():
        if not os.path.lexists(target):
            os.rename(stage, target)
            return
        if _exchange(stage, target):
            return
        old = target.parent / f".{target.name}.attain-old-{os.getpid()}-{os.urandom(4).hex()}"
        os.rename(target, old)
        os.rename(stage, target)
        os.rename(old, stage)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the set is swapped in (main thread only)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _recover(target: Path) -> None:
    """Clean up after runs that were killed: remove their staging folders, and put a
    previous set back that a kill left moved aside between two renames."""
    try:
        siblings = os.listdir(target.parent)
    except OSError:
        return
    for name in sorted(siblings):
        match = _STAGE.match(name)
        if not match or match["name"] != target.name or _alive(int(match["pid"])):
            continue
        path = target.parent / name
        if "attain-old-" in name and not os.path.lexists(target):
            try:
                os.rename(path, target)
                continue
            except OSError:
                pass
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


#: Errors of the disk written to (full, over quota, read-only, file too large).
_STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


def _output_error(shown: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    blocker = next(
        (p for p in Path(os.path.abspath(shown)).parents if p.exists() and not p.is_dir()), None
    )
    if blocker is not None:
        reason = f"{blocker} is a file, not a folder"
    hint = ""
    if exc.errno == errno.ENOSPC:
        hint = "free some space, or write to another disk"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "choose a folder you can write to"
    return OutputError(
        [
            Problem(
                str(shown),
                f"cannot use this folder for the output: {reason}",
                code="out-unwritable",
                hint=hint,
            )
        ]
    )
