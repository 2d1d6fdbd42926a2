"""Hardening: random `codesign dashboard` / `codesign report` arguments never give a traceback;
a rejected input exits 2 with one line, starts no server and writes nothing."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.cli.main import main

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
ports = st.one_of(st.integers(-5, 70000).map(str), texts)
refresh = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), texts)
hosts = st.one_of(st.sampled_from(["127.0.0.1", "localhost", "::1", "", "999.1.1.1", "a b"]), texts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(store=texts, host=hosts, port=ports, refresh_s=refresh)
def test_dashboard_arguments(tmp_path, capsys, store, host, port, refresh_s) -> None:
    missing = str(tmp_path / ("none-" + store.replace(os.sep, "_")))  # never an existing store
    code = main(["dashboard", "--store", missing, "--host", host, "--port", port, "--refresh", refresh_s])
    out, err = capsys.readouterr()
    assert code == 2, (store, host, port, refresh_s, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and out == ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(store=texts, name=texts)
def test_report_arguments(tmp_path, capsys, store, name) -> None:
    out_path = tmp_path / "sub" / (name.replace(os.sep, "_") or "r") if name else tmp_path / "r.html"
    code = main(["report", "--store", str(tmp_path / ("none-" + store.replace(os.sep, "_"))), "-o", str(out_path)])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out_path.exists()
