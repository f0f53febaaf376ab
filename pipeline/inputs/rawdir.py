"""What a raw folder holds: nothing, the synthetic demo, real files, or (refused) a mix.

A raw folder holds either the demo written by ``dedi demo`` (marked by ``SYNTHETIC_DEMO_DATA.txt``
and by ``provenance.json`` entries with ``"synthetic": true``) or real files, never both.
``dedi build`` never generates data: it stops on an empty or mixed folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import DEMO_MARKER
from pipeline.sources.common import PROVENANCE_FILE, read_provenance


class RawDirError(RuntimeError):
    """The raw folder cannot be built from (missing, empty or mixed); the message says how to fix it."""


@dataclass
class RawDirState:
    """Data files of a raw folder, split by what their provenance says."""

    path: Path
    exists: bool
    demo_marker: bool
    synthetic: list[Path] = field(default_factory=list)
    real: list[Path] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``missing``, ``empty``, ``demo``, ``real`` or ``mixed``."""
        if not self.exists:
            return "missing"
        if not self.synthetic and not self.real:
            return "empty"
        if self.real and (self.synthetic or self.demo_marker):
            return "mixed"
        return "demo" if self.synthetic else "real"


def _data_files(raw: Path) -> list[Path]:
    return sorted(p for p in raw.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.name not in (PROVENANCE_FILE, DEMO_MARKER)
                  and not any(part.startswith(".") for part in p.relative_to(raw).parts))


def inspect(raw: Path) -> RawDirState:
    """Classify every data file of ``raw`` as synthetic (per its folder's provenance) or real."""
    state = RawDirState(raw, raw.is_dir(), (raw / DEMO_MARKER).exists())
    if not state.exists:
        return state
    prov: dict[Path, dict] = {}
    for f in _data_files(raw):
        entries = prov.setdefault(f.parent, read_provenance(f.parent).get("files", {}))
        (state.synthetic if entries.get(f.name, {}).get("synthetic") else state.real).append(f)
    return state


def _sample(files: list[Path], raw: Path) -> str:
    names = [str(f.relative_to(raw)) for f in files[:3]]
    return ", ".join(names) + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as surrogates
        return False
    return True


def require_buildable(raw: Path) -> RawDirState:
    """The raw folder's state, or :class:`RawDirError` if a build must not start from it."""
    s = inspect(raw)
    if s.kind == "missing":
        raise RawDirError(f"raw folder {raw} does not exist. Point DEDI_RAW_DIR at your raw "
                          "files, download the official ones with `dedi fetch`, or write the "
                          "synthetic demo with `dedi demo`")
    if s.kind == "empty":
        raise RawDirError(f"raw folder {raw} holds no data files. Download the official files "
                          "with `dedi fetch`, or write the synthetic demo with `dedi demo`")
    odd = [f for f in s.synthetic + s.real if not _utf8(str(f.relative_to(raw)))]
    if odd:
        name = str(odd[0].relative_to(raw)).encode("utf-8", "surrogateescape")
        raise RawDirError(f"raw folder {raw}: the file name {name!r} is not valid UTF-8 (a "
                          "stray or badly copied file?); rename it or move it out of the raw "
                          "folder")
    if s.kind == "mixed":
        raise RawDirError(
            f"raw folder {raw} mixes the synthetic demo ({_sample(s.synthetic, raw) or DEMO_MARKER}) "
            f"with other files ({_sample(s.real, raw)}); a build uses one or the other. Move the "
            "real files to their own folder (DEDI_RAW_DIR), or delete the demo files")
    return s


def require_not_demo(raw: Path, action: str) -> None:
    """Refuse to put real files into a folder holding the synthetic demo."""
    s = inspect(raw)
    if s.kind in ("demo", "mixed") or s.demo_marker:
        raise RawDirError(f"raw folder {raw} holds the synthetic demo; {action} into it would mix "
                          "real and synthetic files. Use an empty folder (DEDI_RAW_DIR=...) or "
                          f"delete the demo first (rm -r {raw}/*)")
