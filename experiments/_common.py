"""Shared helpers of the reproduction experiments (``experiments/*.py``).

Every experiment script does the same four things, here once:

- parse ``--smoke`` (the CI size: same code path, smaller budgets / workloads), ``--out``
  (directory of the table and plot; default ``docs/results``, or a temporary directory with
  ``--smoke`` so a smoke run never overwrites the committed full results) and ``--seed``;
- time the run (wall clock) and note the machine (CPU cores, load average);
- write ``<out>/<experiment>.md``: title, a markdown table, notes (where and why we disagree
  with the paper), the wall time and the command that regenerates it;
- write ``<out>/<experiment>.png`` with matplotlib (imported lazily, Agg backend).

Usage in a script::

    def main(argv=None):
        exp = Experiment("stripes_precision", __doc__, argv)
        ...
        exp.table(["layer", "speed-up"], rows)
        exp.note("...")
        fig, ax = exp.figure()
        ...
        return exp.finish(fig)
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "results"


def fmt(value: Any, spec: str = ".3g") -> str:
    """A table cell: numbers formatted with ``spec``, None as an em dash, the rest ``str``."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]], spec: str = ".3g") -> str:
    """A GitHub markdown table (cells through :func:`fmt`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c, spec) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU cores and load average, for the wall-time line."""
    cores = os.cpu_count() or 0
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Windows
        load = "n/a"
    return f"{cores} CPU cores, load average {load} (1/5/15 min) at the end of the run"


def pyplot() -> Any:
    """matplotlib.pyplot with the Agg backend (lazy import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class Experiment:
    """One experiment run: arguments, timing, the markdown document and the plot.

    Args:
        name: file stem of the outputs (``<out>/<name>.md``, ``.png``).
        doc: the script's module docstring (first line = title, used for ``--help``).
        argv: command-line arguments (default ``sys.argv[1:]``).
        add_args: optional hook adding script-specific arguments to the parser.
    """

    def __init__(self, name: str, doc: str | None, argv: Sequence[str] | None = None,
                 add_args: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
        self.name = self.script = name  # set ``name`` after parsing to write ``<out>/<name>.md`` from one script
        self.title = (doc or name).strip().splitlines()[0].rstrip(".")
        p = argparse.ArgumentParser(prog=f"experiments/{name}.py", description=doc,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--smoke", action="store_true", help="CI size: small budgets, same code path")
        p.add_argument("--out", default=None, help="output directory (default docs/results; a temp dir with --smoke)")
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        if add_args:
            add_args(p)
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.args = p.parse_args(self.argv)
        if self.args.out is None:
            self.args.out = (tempfile.mkdtemp(prefix=f"codesign-{name}-smoke-") if self.args.smoke
                             else str(DEFAULT_OUT))
        self.out = Path(self.args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.smoke: bool = self.args.smoke
        self.seed: int = self.args.seed
        self.sections: list[str] = []
        self.t0 = time.perf_counter()

    # --- content -------------------------------------------------------------------------
    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "",
              spec: str = ".3g") -> str:
        """Add a markdown table (with an optional caption line above it); returns its text."""
        text = md_table(header, rows, spec)
        self.sections.append((f"{caption}\n\n" if caption else "") + text)
        return text

    def note(self, text: str) -> None:
        """Add a paragraph (or a ``## heading``) to the document."""
        self.sections.append(text.strip())

    def log(self, text: str) -> None:
        """Progress line on stderr (keeps stdout for the table)."""
        print(f"[{self.name} {time.perf_counter() - self.t0:7.1f}s] {text}", file=sys.stderr, flush=True)

    def figure(self, ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (8.0, 5.0)) -> tuple[Any, Any]:
        plt = pyplot()
        return plt.subplots(nrows, ncols, figsize=size, dpi=120)

    # --- output --------------------------------------------------------------------------
    @property
    def wall_s(self) -> float:
        return time.perf_counter() - self.t0

    def finish(self, fig: Any = None) -> int:
        """Write ``<name>.md`` (and ``<name>.png`` from ``fig``), print the document; exit code 0."""
        png = self.out / f"{self.name}.png"
        if fig is not None:
            fig.tight_layout()
            fig.savefig(png)
            pyplot().close(fig)
        size = "smoke (CI) size" if self.smoke else "full size"
        cmd = " ".join(["python", f"experiments/{self.script}.py", *map(shlex.quote, self.argv)])
        head = [f"# {self.title}", "",
                f"Run: `{cmd}` — {size}, seed {self.seed}. Wall time **{self.wall_s:.1f} s** on {machine()}.", ""]
        if fig is not None:
            head += [f"![{self.name}]({png.name})", ""]
        text = "\n".join(head) + "\n" + "\n\n".join(self.sections) + "\n"
        md = self.out / f"{self.name}.md"
        md.write_text(text)
        print(text)
        print(f"wrote {md}" + (f" and {png}" if fig is not None else ""))
        return 0
