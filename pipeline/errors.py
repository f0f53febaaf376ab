"""The errors a user can cause, each printed by ``dedi`` as one line (no traceback).

Kept free of heavy imports so that ``dedi --help`` and the CLI's error handling stay fast;
each is re-exported by the module that raises it.
"""

from __future__ import annotations

from pathlib import Path

DATA_WARNING = "data warning: "  # a tolerated problem's log line (told from Dagster's own)


class SourceError(ValueError):
    """A raw file is unusable; the message names the file, the column and the rows."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class SpecError(ValueError):
    """The index spec is invalid; the message names the key."""


class SettingsError(ValueError):
    """``settings.yaml`` holds a key DEDI does not know (the message names it and the nearest
    valid name)."""


class CurrentGuardError(RuntimeError):
    """A build would replace the published ``current`` with another kind or coverage of data
    (the message names both and what to do)."""


class WarehouseError(RuntimeError):
    """No published marts where they were looked for (the message says what to run)."""


class HubsError(ValueError):
    """Bad input to ``dedi hubs``: one line naming the file or option, the row and what to do."""


class EvaluateError(ValueError):
    """Bad input to ``dedi evaluate``: one line naming the file, column and rows."""
