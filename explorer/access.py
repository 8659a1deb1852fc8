"""Which checkpoints a browser session may open on the server's disk.

A served explorer is a web application that opens files chosen in a browser. By default (a local
run) any path is allowed. With checkpoint folders, paths must lie inside one of them once ``..``
and symbolic links are resolved; with ``zoo_only``, only the bundled models load. A refusal never
says whether the file (or, for ``~name``, the account) exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from explorer import zoo
from explorer.checkpoint import CheckpointError, source_text

UPLOAD_PREFIX = "upload:"  # sources of checkpoints uploaded from the browser, held in memory
# The largest checkpoint a browser may upload, by default: it travels base64-encoded, 13.3 MB of
# Bokeh's 20 MB message limit.
MAX_UPLOAD_MB = 10.0


@dataclass(frozen=True)
class CheckpointAccess:
    """The rule for user-chosen checkpoints; ``trusted`` sources (the operator's) always pass."""

    folders: tuple[Path, ...] = ()
    zoo_only: bool = False
    trusted: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def confined(cls, folders, zoo_only: bool = False, trusted=()) -> CheckpointAccess:
        real = tuple(Path(os.path.realpath(Path(f).expanduser())) for f in folders)
        return cls(folders=real, zoo_only=zoo_only, trusted=frozenset(trusted))

    @property
    def restricted(self) -> bool:
        return self.zoo_only or bool(self.folders)

    @property
    def paths_allowed(self) -> bool:
        """Whether a path input makes sense at all."""
        return not self.zoo_only

    def check(self, source: str) -> str:
        """The source to load (a zoo name, an upload, or a real path), or CheckpointError."""
        source = source_text(source)  # refuses a NUL or an over-long path, whatever the rule
        if source in zoo.NAMES or source.startswith(UPLOAD_PREFIX) or source in self.trusted:
            return source
        if not self.restricted:
            return source
        if self.zoo_only:
            raise CheckpointError("this server only opens its bundled models")
        real = self._locate(source)
        if real is None or not any(real.is_relative_to(folder) for folder in self.folders):
            raise CheckpointError(
                "that path is not in this server's checkpoint folders: "
                + ", ".join(str(f) for f in self.folders)
            )
        return str(real)

    def _locate(self, source: str) -> Path | None:
        """Resolve ``~``, ``..`` and links; a relative path is looked for in each folder in turn.

        None for ``~name/...``: whether an account exists must not show in the answer, so another
        account's home is refused whether or not there is one (write its path out instead).
        """
        if source.startswith("~") and not (source == "~" or source.startswith("~/")):
            return None
        try:
            path = Path(source).expanduser()  # RuntimeError when no home can be found
            if path.is_absolute():
                return Path(os.path.realpath(path))
            candidates = [Path(os.path.realpath(folder / path)) for folder in self.folders]
        except (OSError, RuntimeError, ValueError):
            return None
        # os.path.exists: False, not an exception, for a name too long or a folder not readable.
        return next((c for c in candidates if os.path.exists(c)), candidates[0])
