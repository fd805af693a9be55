"""What reading one Epoch file found: :class:`ParseIssue` and :class:`ParseReport`.

Apart from :mod:`flopcast.datasets.parsing` (which re-exports both) so that a database loaded from the
parsed-database cache (:mod:`flopcast.datasets.parsed`) does not import the cell parsers and compile their
patterns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["ParseIssue", "ParseReport"]


@dataclass(frozen=True)
class ParseIssue:
    """One cell or record that could not be used as written."""

    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}, {self.column}: {self.value!r}: {self.reason}"


@dataclass
class ParseReport:
    """What reading one file found.

    ``records`` counts every data record in the file (blank lines excluded), including
    the ``skipped`` ones (no name, or unreadable). ``issues`` are cells/records whose value was dropped
    (set to None) or rows skipped; ``warnings`` are values kept but repaired or suspicious
    (whitespace in a name normalized, a stray carriage return removed, bounds that
    contradict the central estimate). ``duplicates`` lists names shared by several rows
    after lowercasing and dropping non-alphanumerics, with the lines of those rows; the
    name shows every spelling, joined by " / ".
    """

    file: str
    kind: str
    records: int = 0
    issues: list[ParseIssue] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, list[int]]] = field(default_factory=list)
    warnings: list[ParseIssue] = field(default_factory=list)
    skipped: int = 0
    path: str = ""

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "path": self.path,
            "kind": self.kind,
            "records": self.records,
            "skipped": self.skipped,
            "issues": [asdict(i) for i in self.issues],
            "warnings": [asdict(w) for w in self.warnings],
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "duplicates": [{"name": n, "lines": list(lines)} for n, lines in self.duplicates],
        }

    def summary(self) -> str:
        n = len(self.issues)
        d = len(self.duplicates)
        s = (
            f"{self.file}: {self.records} records, {n} {'cell' if n == 1 else 'cells'} could not be parsed, "
            f"{d} duplicate {'name' if d == 1 else 'names'}"
        )
        if self.skipped:
            s += f", {self.skipped} {'row' if self.skipped == 1 else 'rows'} skipped"
        if self.warnings:
            s += f", {len(self.warnings)} {'warning' if len(self.warnings) == 1 else 'warnings'}"
        return s
