"""``codesign dashboard`` and ``codesign report`` from the command line."""

from __future__ import annotations

import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from codesign.cli.main import main
from conftest import XSS, XSS_IMG


def test_report_is_self_contained_and_escaped(real_store: str, xss_store: str, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--store", real_store, "-o", str(out)]) == 0
    text = out.read_text()
    assert "Plotly.newPlot" in text and len(text) > 1_000_000  # plotly.js inlined
    assert not re.search(r"<script[^>]+src=", text) and not re.search(r"<link[^>]+href=", text)  # nothing fetched
    assert "Pareto front over all objectives" in text and "conv1" in text
    assert "hypervolume: normalized hypervolume in [0, 1]" in text  # comparable across stores (issue 16)
    assert text.count("<table") >= 4  # runs, front and detail tables (pandas)
    xss = tmp_path / "xss.html"
    assert main(["report", "--store", xss_store, "-o", str(xss)]) == 0
    body = xss.read_text()
    assert XSS not in body and XSS_IMG not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("argv, message", [
    (["dashboard", "--store", "{missing}"], "no codesign store"),
    (["dashboard", "--store", "{store}", "--port", "70000"], "--port must be in [0, 65535]"),
    (["dashboard", "--store", "{store}", "--port", "{busy}"], "cannot listen on 127.0.0.1"),
    (["dashboard", "--store", "{store}", "--refresh", "0"], "--refresh must be > 0"),
    (["report", "--store", "{missing}", "-o", "{tmp}/r.html"], "no codesign store"),
    (["report", "--store", "{store}", "-o", "{tmp}/no/such/r.html"], "existing directory"),
])
def test_user_errors_are_one_line_exit_2(argv: list[str], message: str, real_store: str, tmp_path: pathlib.Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        args = [a.format(missing=str(tmp_path / "nostore"), store=real_store, busy=busy.getsockname()[1],
                         tmp=tmp_path) for a in argv]
        assert main(args) == 2
    finally:
        busy.close()
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_dashboard_command_serves_on_loopback(real_store: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "codesign.cli.main", "dashboard", "--store", real_store,
                             "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.time() + 20
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.2)
        assert "codesign dashboard" in page
        # no endpoint reads files outside the store
        for path in ("assets/../../../../etc/passwd", "_dash-component-suites/../../../etc/passwd"):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5).read().decode()
            except OSError:
                body = ""
            assert "root:" not in body
    finally:
        proc.terminate()
        proc.wait(10)
