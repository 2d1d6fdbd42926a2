"""The core install (issue 16, item 11): with every optional package hidden, the default search
runs, and each feature that needs an extra stops with one line naming it."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tomllib

import pytest

from codesign.errors import EXTRAS

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def core_site(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """This environment's site-packages without the optional packages (links to everything
    else): a core-only environment, as `pip install codesign` gives, without a download."""
    import site

    site_dir = pathlib.Path(next(p for p in site.getsitepackages() if p.endswith("site-packages")))
    hidden = {m.lower() for m in EXTRAS} | {"psycopg2_binary", "psycopg2_binary.libs"}
    out = tmp_path_factory.mktemp("core-site")
    for entry in site_dir.iterdir():
        top = entry.name.split("-")[0].split(".")[0].lower() if entry.suffix in (".dist-info", ".egg-info", ".pth") \
            else entry.name.split(".")[0].lower()
        if top in hidden or entry.name.lower() in hidden or entry.suffix == ".pth":
            continue
        (out / entry.name).symlink_to(entry)
    return out


def _core(site_dir: pathlib.Path, cwd: pathlib.Path, *argv: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run in the core-only environment: no site initialisation, the overlay and the source."""
    code = code or "import sys\nfrom codesign.cli.main import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-S", "-c", code, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{site_dir}"})


def test_extras_map_to_pyproject() -> None:
    """Every optional package the code knows of is in the extra that the error names, and not
    in the core dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower().replace("-", "_")
    for module, extra in EXTRAS.items():
        dist = {"psycopg2": "psycopg2_binary", "gpytorch": "botorch"}.get(module, module)  # gpytorch: via botorch
        listed = " ".join(project["optional-dependencies"][extra]).lower().replace("-", "_")
        assert dist in listed, (module, extra)
        assert dist not in core, f"{module} is optional but a core dependency"
    assert "codesign[" in project["optional-dependencies"]["all"][0]
    for extra in ("bo", "rl", "rtl", "dashboard", "distributed"):
        assert extra in project["optional-dependencies"]["all"][0]


def test_default_search_runs_on_the_core(tmp_path, core_site) -> None:
    hidden = _core(core_site, tmp_path, code="import importlib.util as u, sys\n"
                   "print([m for m in ('pandas', 'dash', 'ray', 'botorch', 'gymnasium', 'amaranth', 'torch', 'optuna')"
                   " if u.find_spec(m)])")
    assert hidden.stdout.strip() == "['torch', 'optuna']", hidden.stderr
    proc = _core(core_site, tmp_path, "run", "--budget", "12", "--store", "runs/core", "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "12 evaluations" in proc.stdout


@pytest.mark.parametrize("argv, extra", [
    (["run", "--agent", "sb3-ppo", "--budget", "4", "--store", "s"], "rl"),
    (["run", "--executor", "ray", "--budget", "4", "--store", "s"], "distributed"),
    (["dashboard", "--store", "STORE"], "dashboard"),
    (["report", "--store", "STORE", "-o", "r.html"], "dashboard"),
    (["sim", "verify", "--cases", "2"], "rtl"),
])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, core_site, synth_plugin, argv, extra) -> None:
    import codesign

    if "STORE" in argv:
        codesign.run("synth-test", agent="random", budget=3, store=str(tmp_path / "store"))
        argv = [str(tmp_path / "store") if a == "STORE" else a for a in argv]
    proc = _core(core_site, tmp_path, *argv)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("codesign: error: ") and f"pip install 'codesign[{extra}]'" in proc.stderr


def test_dataframe_without_pandas_names_the_extra(tmp_path, core_site, synth_plugin) -> None:
    import codesign

    codesign.run("synth-test", agent="random", budget=3, store=str(tmp_path / "s"))
    code = (f"import codesign\nst = codesign.open_store({str(tmp_path / 's')!r})\n"
            "try:\n    st.dataframe()\nexcept codesign.errors.MissingExtra as e:\n    print(e)\n")
    proc = _core(core_site, tmp_path, code=code)
    assert "pip install 'codesign[notebook]'" in proc.stdout, proc.stderr[-2000:]
