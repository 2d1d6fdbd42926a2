"""Helpers shared by the subcommands: JSON output, YAML configs, consoles, problems with their
parameter check."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from codesign.errors import ConfigError


def print_json(doc: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, indent=1, default=_default) + "\n")
    sys.stdout.flush()


def _default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def load_yaml(path: str) -> dict[str, Any]:
    """Load a YAML mapping, with one-line errors for a missing or malformed file."""
    import yaml

    if not os.path.isfile(path):
        raise ConfigError(f"config must be an existing YAML file, but {path!r} does not exist")
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"config {path!r} is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path!r} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path!r} must be a YAML mapping, but holds {type(data).__name__}")
    return data


def console(stderr: bool = False) -> Any:
    """A rich console with markup off: names such as ``digits-accel[tiny]/tpe/seed0`` print as
    they are (rich would read ``[tiny]`` as a style tag and drop it)."""
    from rich.console import Console

    con = Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False)
    if not con.is_terminal:
        con = Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False, width=120)
    return con


def build_problem_checked(spec: dict[str, Any], strict: bool = False) -> Any:
    """Build the problem of a spec; its parameter check's warnings print as one line each on
    stderr (``codesign: warning: ...``), or fail the command under ``strict``."""
    import warnings

    from codesign.config import build_problem
    from codesign.errors import ParameterWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParameterWarning)
        problem = build_problem(spec)
    for w in caught:
        if not issubclass(w.category, ParameterWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
            continue
        if strict:
            raise ConfigError(f"{w.message} (an error under --strict)")
        sys.stderr.write(f"codesign: warning: {' '.join(str(w.message).split())}\n")
    return problem


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def check_output_path(path: str) -> None:
    """An output file must be a new or a regular file in an existing directory: never a
    directory, a device, a FIFO or a symbolic link (writing would replace or follow it)."""
    import stat

    if os.path.islink(path):
        raise ConfigError(f"-o must be a regular file, but {path!r} is a symbolic link (give its target instead)")
    if os.path.exists(path):
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"-o must be a file, but {path!r} is a directory")
        if not stat.S_ISREG(mode):
            raise ConfigError(f"-o must be a regular file, but {path!r} is a device, FIFO or socket")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(f"-o must be in an existing directory, but {parent!r} does not exist")


def write_file(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a fresh temporary file in the same directory, renamed)."""
    import tempfile

    check_output_path(path)
    parent = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise ConfigError(f"-o {path!r} cannot be written: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def add_server_arguments(p: Any, port: int, refresh_s: float) -> None:
    """``--store``, ``--host``, ``--port`` and ``--refresh`` of a command serving a store over HTTP."""
    p.add_argument("--store", required=True, help="store directory or database URL")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it)")
    p.add_argument("--port", type=int, default=port, help=f"port (default {port}; 0 picks a free one)")
    p.add_argument("--refresh", type=float, default=refresh_s, metavar="SECONDS",
                   help=f"how often the store is re-read when it changed (default {refresh_s:g} s)")


def serve_until_interrupted(server: Any, label: str, host: str, store: str, on_stop: Any = None) -> int:
    """Print where ``server`` (a WSGI/HTTP server bound already) listens, serve until Ctrl-C,
    then close it (and call ``on_stop``); returns the exit code 0."""
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"{label} on http://{shown}:{server.socket.getsockname()[1]}/ (store {store}; Ctrl-C stops)\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if on_stop is not None:
            on_stop()
        server.server_close()
    return 0


def stdout_for_json(json_mode: bool) -> Any:
    """While a ``--json`` command works, whatever else writes to stdout (Ray's raylet warnings,
    a plugin's prints) goes to stderr, so stdout holds exactly one JSON document."""
    import contextlib

    return contextlib.redirect_stdout(sys.stderr) if json_mode else contextlib.nullcontext()
