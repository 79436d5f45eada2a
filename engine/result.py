"""One result protocol for every engine's result.

Every engine returns a result object with the same four parts — :class:`Result`:

``summary``
    a typed object (a frozen dataclass, a :class:`Summary`) whose fields are the keys of
    the run's ``summary.json``; attributes for code (``result.summary.total_target``),
    and, as a read-only mapping, the same keys as the file (``result.summary["status"]``,
    ``dict(result.summary)``).
``frames``
    the run's tables by name (``result.frames["targets"]``), each also an attribute.
``to_json()``
    the summary as JSON text: sorted keys, deterministic, byte for byte what
    ``summary.json`` holds.
``write(out)``
    the same output set as the command line writes, as one transaction
    (:func:`attain.output.output_set`: all of it, or the previous set untouched);
    ``force`` and ``inputs`` as there. It returns the paths written.

:class:`Allocation`, :class:`Payouts` (one plan or several), :class:`SimulationResult`,
:class:`Alignment` and :class:`Tracking` follow it; :class:`ResultFiles` gives a result
``to_json`` and ``write`` from its ``summary``, ``kind`` and ``write_files``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import pandas as pd

__all__ = ["Result", "ResultFiles", "Summary", "summary_json"]


def summary_json(data: Any) -> str:
    """JSON text as every summary.json is written: sorted keys, indented, a final newline."""
    return json.dumps(_plain(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Summary(Mapping[str, Any]):
    """Base of the typed summaries: a frozen dataclass whose fields are summary.json's keys.

    Fields named in :attr:`OMITTED_WHEN_NONE` are left out of the file when None (keys
    summary.json holds only sometimes). A summary is also a read-only mapping of the
    file's keys, so code written against summary.json reads it unchanged.
    :meth:`from_dict` keeps a key that has no field yet in :attr:`untyped` (still in the
    mapping and the file; the result-protocol test requires it to be empty).
    """

    OMITTED_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    @property
    def untyped(self) -> dict[str, Any]:
        """Keys of the document that have no field of their own."""
        return dict(self.__dict__.get("_untyped", {}))

    def to_dict(self) -> dict[str, Any]:
        """The summary.json document (nested summaries as plain dicts)."""
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self.OMITTED_WHEN_NONE:
                continue
            out[f.name] = _plain(value)
        out.update((k, _plain(v)) for k, v in self.untyped.items())
        return out

    def to_json(self) -> str:
        """summary.json's text."""
        return summary_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """The summary of a summary.json document."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        summary = cls(**{k: v for k, v in data.items() if k in names})
        untyped = {k: v for k, v in data.items() if k not in names}
        if untyped:
            object.__setattr__(summary, "_untyped", untyped)
        return summary

    def __getitem__(self, key: str) -> Any:
        if key in self._typed_keys():
            return getattr(self, key)
        untyped = self.__dict__.get("_untyped", {})
        if key in untyped:
            return untyped[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> list[str]:
        return self._typed_keys() + list(self.__dict__.get("_untyped", {}))

    def _typed_keys(self) -> list[str]:
        return [
            f.name
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if not (f.name in self.OMITTED_WHEN_NONE and getattr(self, f.name) is None)
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, Summary):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@runtime_checkable
class Result(Protocol):
    """What every engine's result offers (see the module docstring)."""

    @property
    def summary(self) -> Summary: ...

    @property
    def frames(self) -> Mapping[str, pd.DataFrame]: ...

    def to_json(self) -> str: ...

    def write(
        self, out: str | Path, *, force: bool = False, inputs: Iterable[str | Path | None] = ()
    ) -> list[Path]: ...


class ResultFiles:
    """``to_json`` and the transactional ``write`` for a result with a ``summary``, an
    output ``kind`` (the manifest's) and ``write_files(folder, **options)``."""

    kind: ClassVar[str]
    #: The file that holds :meth:`to_json`'s text (design.json for a design).
    summary_file: ClassVar[str] = "summary.json"

    # Given by the result class (a field or a property).
    summary: Any

    def to_json(self) -> str:
        """The summary as JSON text: what summary.json holds, byte for byte."""
        return summary_json(self.summary)

    #: ``write_files(folder, **options) -> list[Path]``: the files into a folder, each
    #: written atomically (given by the result class).
    write_files: Callable[..., list[Path]]

    def write(
        self,
        out: str | Path,
        *,
        force: bool = False,
        inputs: Iterable[str | Path | None] = (),
        **options: Any,
    ) -> list[Path]:
        """Write the output set into ``out`` as one transaction; returns the paths as
        they are once in place. ``out`` is refused (:class:`~attain.errors.OutputError`)
        when it holds one of ``inputs``, another kind of output or unrelated files,
        unless ``force`` (which keeps what else is there)."""
        from attain.output import output_set

        with output_set(out, kind=self.kind, inputs=inputs, force=force) as stage:
            return stage.final(self.write_files(stage.path, **options))
