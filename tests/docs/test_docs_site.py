"""The documentation site builds with warnings as errors, and the repository files it points to exist."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_docs_site_builds_strict(tmp_path: pathlib.Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    assert (site / "architecture" / "index.html").is_file()
    # API pages are generated from the docstrings: the Problem class's own docstring text is there
    api = (site / "api" / "evaluators" / "index.html").read_text(encoding="utf-8")
    assert "A co-design problem." in api


def test_license_is_apache_2() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_readme_links_resolve() -> None:
    """Every relative link of the README names a file of the repository (the design doc included)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [m for m in re.findall(r"\]\(([^)#\s]+)", readme) if "://" not in m]
    assert links, "the README links to the docs"
    missing = [m for m in links if not (ROOT / m).exists()]
    assert not missing, f"README links to missing files: {missing}"
    assert "docs/architecture.md" in links
