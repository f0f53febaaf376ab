"""User mistakes get one clear line and a hint (never a traceback), with or without --quiet."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.cli.main import COMMANDS, _parser, main
from tests.conftest import ROOT, dedi_env


def _run(args, env=None):
    return subprocess.run([sys.executable, "-m", "pipeline.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_bad_spec_value_is_reported_before_data_is_read(tmp_path, quiet):
    import os

    env = {**os.environ, "DEDI_RAW_DIR": str(tmp_path / "nothing-here"),
           "DEDI_MARTS_DIR": str(tmp_path / "marts"), "DEDI_STAGING_DIR": str(tmp_path / "st")}
    p = _run(["build", *quiet, "--set", 'dedi.dx_weight="2"'], env)
    assert p.returncode == 2
    assert "dedi.dx_weight must be a number in [0, 1), got the string '2'" in p.stderr
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1
    assert not (tmp_path / "nothing-here").exists()  # checked before the raw folder
    p = _run(["build", *quiet, "--set", "dx.indicators.nope.weight=1"], env)
    assert p.returncode == 2 and "unknown key 'nope'" in p.stderr and "known:" in p.stderr
    bad = tmp_path / "spec.yaml"
    bad.write_text("dx: [unclosed\n", encoding="utf-8")
    p = _run(["build", *quiet, "--spec", str(bad)], env)
    assert p.returncode == 2 and "not valid YAML" in p.stderr and "Traceback" not in p.stderr


def test_unknown_fetch_source_lists_the_valid_names(capsys):
    assert main(["fetch", "iod2052"]) == 2
    err = capsys.readouterr().err
    assert "unknown source(s) ['iod2052']" in err and "iod2025" in err and "gias" in err


def test_build_raw_dir_works_like_the_other_commands(tmp_path, capsys):
    missing = tmp_path / "typo"
    assert main(["build", "--raw-dir", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not missing.exists()


def test_every_subcommand_has_a_description():
    ap = _parser()
    sub = next(a for a in ap._actions if a.dest == "cmd")
    assert set(sub.choices) == set(COMMANDS)
    for name, p in sub.choices.items():
        assert p.description and len(p.description) > 20, name
    assert all(name in ap.format_help() for name in COMMANDS)


def test_readers_report_missing_marts_in_one_line(tmp_path, capsys):
    from tests.conftest import BuildDirs

    with dedi_env(BuildDirs(tmp_path, tmp_path / "s", tmp_path / "m")):
        for cmd in (["sql", "SELECT 1"], ["explore"], ["explain", "E01000001"],
                    ["report", "--icb", "E54000008"]):
            assert main(cmd) == 2
            err = capsys.readouterr().err
            assert "no published marts" in err and err.count("\n") == 1, cmd


def test_explain_unknown_lsoa_and_report_unknown_icb(demo_build, capsys):
    with dedi_env(demo_build):
        assert main(["explain", "E01999999"]) == 2
        assert "not an LSOA of this release" in capsys.readouterr().err
        assert main(["report", "--icb", "E54000999"]) == 2
        assert "no LSOA has ICB code" in capsys.readouterr().err
