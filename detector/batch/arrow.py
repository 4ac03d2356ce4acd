"""Rows as Arrow: encoded in the worker that made them, streamed into Parquet at the end of a scan.

Why here and not in the scan process: a document's rows (a few hundred claims and checks) are turned into one
compact Arrow IPC blob by the worker, in parallel with the other workers. The scan process then only stores
bytes — it has one core like everyone else, and every millisecond it spends per document is taken from the
workers when there are as many workers as cores.

Why a schema of our own making: a column's type is decided from the values (``None`` everywhere → null, ints →
int64, ints and floats → float64, strings → large_string, lists of strings → list<string>; anything else, or a
mix, → text with JSON for the non-strings), per document in the worker, then unified over all documents when the
Parquet file is written (:func:`unify`, :func:`conform`). A column that is a number in one document and text in
another becomes text; nothing is ever lost to a type clash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

NULL = pa.null()
INT = pa.int64()
FLOAT = pa.float64()
BOOL = pa.bool_()
TEXT = pa.large_string()
STRINGS = pa.list_(pa.string())
INT64_MAX = 2**63 - 1


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, separators=(",", ":"))


def _kind(v: object) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int" if -INT64_MAX <= v <= INT64_MAX else "other"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, (list, tuple)) and all(x is None or isinstance(x, str) for x in v):
        return "strings"
    return "other"


KIND_TYPE = {"bool": BOOL, "int": INT, "float": FLOAT, "str": TEXT, "strings": STRINGS}


class Types:
    """Column name → the kinds of value seen, in order of first appearance; fed row by row."""

    def __init__(self, integer_columns: Iterable[str] = ()) -> None:
        self.kinds: dict[str, set[str]] = {}
        self.integer = set(integer_columns)

    def add(self, row: dict) -> None:
        for k, v in row.items():
            seen = self.kinds.setdefault(k, set())
            if v is not None:
                seen.add(_kind(v))

    def types(self) -> dict[str, pa.DataType]:
        out = {}
        for name, kinds in self.kinds.items():
            if name in self.integer:
                out[name] = INT
            elif not kinds:
                out[name] = NULL
            elif len(kinds) == 1 and "other" not in kinds:
                out[name] = KIND_TYPE[next(iter(kinds))]
            elif kinds <= {"int", "float"}:
                out[name] = FLOAT
            else:
                out[name] = TEXT
        return out


def _value(v: object, t: pa.DataType) -> object:
    if v is None:
        return None
    if t == INT:
        return _to_int(v)
    if t == FLOAT:
        return float(v)  # type: ignore[arg-type]
    if t == TEXT and not isinstance(v, str):
        return dumps(v)
    if t == STRINGS:
        return list(v)  # type: ignore[call-overload]
    return v


def _to_int(v: object) -> int | None:
    """An integer column's value: counts and years stay integers; what is not a whole number is left empty."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v if -INT64_MAX <= v <= INT64_MAX else None
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def to_table(rows: list[dict], types: dict[str, pa.DataType]) -> pa.Table:
    """Rows as a table with exactly the columns and types given (a row without a column gives null)."""
    arrays = [pa.array([_value(r.get(name), t) for r in rows], type=t) for name, t in types.items()]
    return pa.Table.from_arrays(arrays, names=list(types))


def encode(rows: list[dict], integer_columns: Iterable[str] = ()) -> bytes | None:
    """One document's rows of one table as an Arrow IPC stream; None for no rows."""
    if not rows:
        return None
    types = Types(integer_columns)
    for r in rows:
        types.add(r)
    table = to_table(rows, types.types())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode(blob: bytes) -> pa.Table:
    return pa.ipc.open_stream(blob).read_all()


def schema_of(blob: bytes) -> pa.Schema:
    return pa.ipc.open_stream(blob).schema


# ------------------------------------------------------------------------------------------ unify and write


def _merge(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if a == b or b == NULL:
        return a
    if a == NULL:
        return b
    if {a, b} == {INT, FLOAT}:
        return FLOAT
    return TEXT


def unify(schemas: Iterable[pa.Schema], first: list[str], integer_columns: Iterable[str] = ()) -> pa.Schema:
    """One schema for many documents' tables: columns in order of first appearance, ``first`` in front."""
    types: dict[str, pa.DataType] = {}
    for schema in schemas:
        for f in schema:
            types[f.name] = _merge(types[f.name], f.type) if f.name in types else f.type
    integer = set(integer_columns)
    for name in integer & set(types):
        types[name] = INT
    for name in first:  # always there, so a query naming them runs even on a scan of broken files only
        types.setdefault(name, INT if name in integer else TEXT)
    order = [c for c in first if c in types] + [c for c in types if c not in first]
    return pa.schema([(name, types[name]) for name in order])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly the columns of ``schema``: missing ones null, others cast (text when a cast is not
    possible, e.g. a list where another document has text)."""
    n = table.num_rows
    arrays = []
    for f in schema:
        if f.name not in table.column_names:
            arrays.append(pa.nulls(n, f.type))
            continue
        col = table[f.name]
        if col.type == NULL or (col.type == INT and f.type == FLOAT):
            col = col.cast(f.type)
        elif col.type != f.type:  # to text: as JSON, the way a mixed column is written within one document
            col = pa.array([_value(v, f.type) for v in col.to_pylist()], type=f.type)
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=schema)


class ParquetSink:
    """A Parquet file written in row groups of about ``batch_rows`` rows: memory holds one row group, never the
    table. Documents' tables are conformed to the file's schema a run at a time: neighbours with the same schema
    (most documents of a table have the same columns) are concatenated first and conformed once, not per
    document (for 500 documents: 0.3 s → 0.01 s a table)."""

    def __init__(self, path, schema: pa.Schema, batch_rows: int = 50_000) -> None:
        self.schema = schema
        self.batch_rows = batch_rows
        self.pending: list[pa.Table] = []
        self.rows = 0
        self.writer = pq.ParquetWriter(str(path), schema)

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            runs = [conform(pa.concat_tables(run), self.schema) for run in _same_schema_runs(self.pending)]
            self.writer.write_table(pa.concat_tables(runs), row_group_size=max(self.rows, 1))
        self.pending, self.rows = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _same_schema_runs(tables: list[pa.Table]) -> Iterator[list[pa.Table]]:
    """``tables`` cut into runs of neighbours with equal schemas, in order."""
    run: list[pa.Table] = []
    for table in tables:
        if run and not table.schema.equals(run[0].schema):
            yield run
            run = []
        run.append(table)
    if run:
        yield run


def batched(rows: Iterable[dict], n: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch
