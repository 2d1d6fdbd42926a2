"""PostgreSQL stores (issue 14, item 9): URLs as users write them; losing the server mid-run
is one clear line, and the same command resumes once the server is back."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

import pytest

import codesign
from codesign.cli.main import main
from codesign.errors import StoreError
from codesign.results.store import Store
from codesign.types import EvalState

PLUGIN = str(pathlib.Path(__file__).parent.parent / "plugins" / "synth_plugin.py")


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://", "postgresql+psycopg2://", "postgresql+psycopg://"])
def test_urls_as_users_write_them(postgres_url, capsys, synth_plugin, scheme) -> None:
    url = scheme + postgres_url.split("://", 1)[1]
    name = "spelling-" + scheme.split(":")[0].replace("+", "-")
    codesign.run("synth-test", "random", budget=3, seed=0, store=url, name=name)
    assert main(["show", "--store", url, "--run", name, "--json"]) == 0
    assert name in capsys.readouterr().out


def test_a_password_never_appears_in_messages() -> None:
    with pytest.raises(StoreError) as err:
        Store("postgresql://user:s3cret@127.0.0.1:1/db", create=False).run_names()
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


def test_losing_the_server_mid_run_is_one_line_and_resumes(tmp_path, private_postgres) -> None:
    url = private_postgres.url
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"plugins: [{PLUGIN}]\nproblem: {{name: synth-test, kwargs: {{delay: 0.1}}}}\n"
                   "budget: 60\nbatch_size: 2\nname: lost\n")
    exe = os.path.join(os.path.dirname(sys.executable), "codesign")
    cmd = [exe, "run", str(cfg), "--store", url, "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if len(Store(url, create=False).open_run("lost").records()) >= 5:
                break
        except StoreError:
            pass
        time.sleep(0.1)
    private_postgres.stop()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "lost the connection to store" in err, err
    assert "rerun the same command to resume" in err and "Traceback" not in err
    private_postgres.start()
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    recs = Store(url, create=False).open_run("lost").records(include_running=True)
    assert len([r for r in recs if not r.orphaned]) == 60
    assert not [r for r in recs if r.state is EvalState.RUNNING]
