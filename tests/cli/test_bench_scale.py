from __future__ import annotations

import json
import os

import pytest

from codesign.cli.main import main

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "plugins", "synth_plugin.py")


def test_bench_scale_smoke(capsys) -> None:
    code = main(["bench", "scale", "--plugin", PLUGIN, "--problem", "synth-test", "--budget", "8",
                 "--workers", "1,2", "--executors", "process", "--batch-size", "4", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    rows = {(r["executor"], r["workers"]): r for r in doc["results"]}
    assert set(rows) == {("inline", 1), ("process", 1), ("process", 2)}
    assert all(r["evaluations"] == 8 and r["evals_per_s"] > 0 for r in rows.values())
    assert rows[("process", 1)]["efficiency"] == 1.0


def test_bench_scale_bad_workers(capsys) -> None:
    assert main(["bench", "scale", "--workers", "0,x"]) == 2
    assert "--workers must be" in capsys.readouterr().err


def test_bench_scale_sleep_simulation_checks_the_run(capsys) -> None:
    code = main(["bench", "scale", "--sleep", "0.2", "--workers", "4", "--executors", "process", "--budget", "8",
                 "--batch-size", "0", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    row = json.loads(out)["results"][0]
    assert (row["records"], row["lost"], row["duplicated"], row["in_flight"]) == (8, 0, 0, 0)
    assert 0 < row["vs_ideal"] <= 1.05 and 0 <= row["store_share"] < 1


def test_bench_store_measures_the_former_store_in_the_same_run(capsys) -> None:
    code = main(["bench", "store", "--records", "20", "--batch", "5", "--writers", "1", "--repeats", "1",
                 "--share-budget", "6", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    rows = {r["store"]: r for r in doc["results"]}
    assert set(rows) == {"former-journal", "sqlite-1", "sqlite-1-full", "sqlite-5", "sqlite-5-full"}
    assert rows["former-journal"]["vs_former"] == 1.0 and all(r["records_per_s"] > 0 for r in rows.values())
    share = doc["run_share"]
    assert share["evaluations"] == 6 and 0 < share["store_share"] < 1 and "former_store_share_estimate" in share


def test_bench_torture_smoke(capsys) -> None:
    code = main(["bench", "torture", "--kills", "2", "--budget", "80", "--survivor-budget", "12", "--junk-every", "1",
                 "--payload-kb", "64", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kills"] == 2 and doc["junk_wal_appends"] == 2 and doc["killed_transactions"] == 2
    assert (doc["lost"], doc["duplicated"], doc["in_flight"], doc["unreadable_reads"], doc["junk_records"]) == (0,) * 5
    assert doc["worker_rcs"] == [0, 0, 0] and doc["unreadable_store"] is None


def test_bench_store_and_torture_bad_arguments(capsys) -> None:
    assert main(["bench", "store", "--records", "0"]) == 2
    assert "--records must be" in capsys.readouterr().err
    assert main(["bench", "torture", "--kills", "0"]) == 2
    assert "--kills must be" in capsys.readouterr().err


def test_bench_probe_rejects_bad_input(capsys) -> None:
    assert main(["bench", "probe", "--problem", "no-such-problem"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--problem must be a registered problem" in err and "no-such-problem" in err
    assert main(["bench", "probe", "--new-bits", "0"]) == 2
    assert "--new-bits must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_probe_times_cold_and_cached_paths(capsys) -> None:
    code = main(["bench", "probe", "--problem", "fmnist-accel", "--new-bits", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    cold, warm = doc["rows"]
    assert (cold["process_start"], warm["process_start"]) == ("empty cache", "warm disk cache")
    # the second process answers the first design from the disk cache: nothing is built
    assert warm["first_eval_s"] < cold["first_eval_s"]
    assert cold["same_bits_probe_cached"] and warm["same_bits_probe_cached"]
    assert all(r["probe_cached_ms"] < r["probe_new_bits_s"] * 1e3 for r in doc["rows"])
    (cli,) = doc["cli"]
    assert cli["workload"] == "fmnist-cnn" and cli["second_s"] < cli["first_s"]
