"""The `bottleneck` verb on a run folder of a line whose bottleneck is known by
construction, its paired sensitivity runs, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from scenario_builder import line

from sim.cli import main

EXP = [{"cycle": {"dist": "exponential", "mean": m}} for m in ("40 s", "60 s", "45 s")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bn")
    d = line(EXP, 5, duration="40 h", replications=4)
    d["name"] = "known"
    d["sinks"] = {"yard": {}}
    (base / "known.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    assert main(["run", str(base / "known.yaml"), "--out", str(base), "--no-plots", "-q",
                 "-w", "1"]) == 0
    return base / "known"


def test_the_slow_station_leads_the_table_and_gains_most_from_speed(folder, capsys) -> None:
    assert main(["bottleneck", str(folder), "--by", "all", "--sensitivity", "3",
                 "--step", "0.2", "-w", "1"]) == 0
    out = capsys.readouterr().out
    table = out.split("station", 1)[1].splitlines()
    assert table[1].split()[0] == "s2"
    gains = {}
    for row in out.split("sensitivity:", 1)[1].splitlines()[2:]:
        name, diff = row.split()[0], row.split()[2]
        gains[name] = float(diff.replace(",", ""))
    # s2 20% faster: its mean 60 s -> 50 s, near s3's 45 s, so output rises by ~15-20%
    # (about 2,400 parts a run at 60 s: +360 or more); the others gain little.
    assert gains["s2"] > 300
    assert gains["s2"] > 3 * max(gains["s1"], gains["s3"])


def test_a_folder_without_bottleneck_table_is_one_line_exit_2(tmp_path, capsys) -> None:
    (tmp_path / "old").mkdir()
    assert main(["bottleneck", str(tmp_path / "old")]) == 2
    err = capsys.readouterr().err
    assert "no bottleneck.csv" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_table_names_the_file_and_line(folder, tmp_path, capsys) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "bottleneck.csv").write_text("replication,station,bin,observed_s,sole_s,"
                                        "shifting_s,sole,shifting\n0,s1,all,1,1,1,x,0\n")
    assert main(["bottleneck", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bottleneck.csv" in err and "line 2" in err


def test_a_reader_that_closes_the_pipe_gets_no_internal_error(folder) -> None:
    """`douai-sim bottleneck RUN | head -1`: the verb stops quietly (exit 141, SIGPIPE's
    status), not with an internal error."""
    import subprocess
    import sys

    import sim

    script = Path(sim.__file__).resolve().parents[1] / "run_sim.py"
    p = subprocess.Popen([sys.executable, str(script), "bottleneck", str(folder)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the reader is gone before the verb writes
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 141
    assert "internal error" not in err and "Traceback" not in err
