"""Errors a user can read. Every error that reaches a user names the file and says what to do, in Chinese
and English, and never shows a traceback."""

from __future__ import annotations


class GoujiError(Exception):
    """Base of all errors gouji raises on purpose. ``code`` is stable (for scans' error tables)."""

    code = "error"

    def __init__(self, message: str, *, path: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class IngestError(GoujiError):
    """A file could not be read as a document (empty, corrupt, encrypted, no text layer, too large …)."""

    code = "ingest"


class UsageError(GoujiError):
    """The command line asked for something that cannot be done."""

    code = "usage"
