"""Sorting more rows than memory should hold: sorted runs in temporary files, merged.

A reporter that must list findings in an order other than the order they arrive in (the
text table: worst first) keeps them in an :class:`ExternalSort`. Past :data:`SPILL_ROWS`
rows, the rows held are sorted and written to a temporary file as one run; reading merges
the runs with the rows still held. A run with millions of findings to list takes the memory
of ``SPILL_ROWS`` rows, not of all of them: the streaming promise of the design.

Rows are plain tuples compared as tuples (their sort key first), so that long tables sort,
spill and merge quickly; runs are written as pickles of batches, and read back only from the
temporary files this process wrote and still holds open.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any, Generic, TypeVar

# Rows held in memory before a sorted run of them is written to a temporary file.
SPILL_ROWS = 50_000
_BATCH = 1000  # rows in one pickle of a run

Row = TypeVar("Row", bound=tuple[Any, ...])


def _write_run(rows: list[Row]) -> IO[bytes]:
    """``rows`` sorted, in a temporary file (deleted when closed)."""
    run = tempfile.TemporaryFile(prefix="cryptocheck-text-")  # noqa: SIM115 - closed by close()
    rows.sort()
    for start in range(0, len(rows), _BATCH):  # batches, each its own pickle
        pickle.dump(rows[start:start + _BATCH], run, protocol=pickle.HIGHEST_PROTOCOL)
    run.seek(0)
    return run


def _read_run(run: IO[bytes]) -> Iterator[Any]:
    while True:
        try:
            batch = pickle.load(run)
        except EOFError:
            return
        yield from batch


class ExternalSort(Generic[Row]):
    """Rows added in any order, read back once in sorted order; memory bounded.

    ``add`` each row, then iterate :meth:`sorted` once, then :meth:`close` (also when the
    reading fails half way: it deletes the temporary files).
    """

    def __init__(self) -> None:
        self._rows: list[Row] = []
        self._runs: list[IO[bytes]] = []  # sorted runs of rows written out (SPILL_ROWS)

    def add(self, row: Row) -> None:
        """Keep ``row``; past :data:`SPILL_ROWS` held, write them out as a sorted run."""
        self._rows.append(row)
        if len(self._rows) >= SPILL_ROWS:
            self._runs.append(_write_run(self._rows))
            self._rows = []

    def __bool__(self) -> bool:
        """Whether any row was added (and not yet read)."""
        return bool(self._rows or self._runs)

    def sorted(self) -> Iterator[Row]:
        """Every row added, in order, as it comes off the merge of the runs spilled to disk
        and the rows still held."""
        self._rows.sort()
        held, self._rows = self._rows, []
        return heapq.merge(*(_read_run(run) for run in self._runs), iter(held))

    def close(self) -> None:
        """Delete the temporary files of the runs."""
        for run in self._runs:
            run.close()
        self._runs = []
