"""`minigen learn run`: a family trained with the learner's functions, beside minigen's own.

Short runs (the training is not the point here: the swap is). With minigen's own code copied
into the workbook, both runs give the same numbers; with a wrong KL the VAE still trains and
its metrics differ from minigen's.
"""
from importlib import resources

import pytest

from minigen.learn.exercises import EXERCISES
from minigen.learn.run import HEADLINE, learn_run

pytestmark = pytest.mark.slow


def table(out):
    """{metric: (yours, minigen's)} from learn run's printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in HEADLINE:
            rows[parts[0]] = tuple(None if p == "-" else float(p) for p in parts[1:])
    return rows


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """A workbook holding minigen's own code for every exercise."""
    directory = tmp_path_factory.mktemp("workbook")
    for e in EXERCISES:
        source = resources.files("minigen.learn.solutions").joinpath(f"{e.name}.py").read_text()
        (directory / f"{e.name}.py").write_text(source)
    return directory


@pytest.mark.parametrize("family, data, key", [("gan", "8gaussians", "energy_distance"),
                                               ("diffusion", "8gaussians", "ddim_energy_distance"),
                                               ("autoregressive", "names", "nll_per_token")])
def test_minigen_s_own_code_swapped_in_gives_minigen_s_numbers(references, capsys, family, data, key):
    learn_run(references, family, data=data, steps=20, quiet=True)
    out = capsys.readouterr().out
    rows = table(out)
    assert key in rows and rows[key][0] == pytest.approx(rows[key][1], rel=1e-6), out
    assert "the same numbers" in out and "this run used your" in out


def test_a_wrong_kl_still_trains_and_the_metrics_show_it(references, tmp_path, capsys):
    for e in EXERCISES:
        (tmp_path / f"{e.name}.py").write_text((references / f"{e.name}.py").read_text())
    (tmp_path / "kl_standard_normal.py").write_text(
        "def kl_standard_normal(mu, log_var):\n"
        "    return (mu * mu + log_var.exp() - 1 - log_var).sum(axis=-1)     # the 1/2 forgotten\n")
    learn_run(tmp_path, "vae", steps=300, quiet=True)
    out = capsys.readouterr().out
    assert "kl_standard_normal   FAILS its check, used anyway" in out
    assert "kl_standard_normal (300 calls)" in out
    rows = table(out)
    assert rows["kl"][0] < rows["kl"][1] and rows["nll_iwae"][0] != pytest.approx(rows["nll_iwae"][1], rel=1e-3), out
    assert "the numbers differ" in out


def test_a_learner_s_function_that_raises_stops_their_run_not_the_command(references, tmp_path, capsys):
    (tmp_path / "q_sample.py").write_text("def q_sample(x0, alpha_bar, eps):\n    return x0 @ eps\n")
    learn_run(tmp_path, "diffusion", steps=5, quiet=True)
    out = capsys.readouterr().out
    assert "your run stopped: OpError at step 0" in out
    assert "q_sample             FAILS its check" in out and "sigmoid              missing" in out
    assert table(out)["energy_distance"][0] is None and table(out)["energy_distance"][1] > 0


def test_learn_run_refuses_a_workbook_with_nothing_written(tmp_path):
    with pytest.raises(ValueError, match="none of vae's exercises"):
        learn_run(tmp_path, "vae", steps=5)


def test_learn_run_refuses_bad_settings_before_anything_trains(tmp_path, capsys):
    from minigen.cli import main
    with pytest.raises(SystemExit) as exit_info:
        main(["learn", "run", str(tmp_path), "vae", "--data", "names"])
    assert exit_info.value.code == 2 and "cannot train on --data 'names'" in capsys.readouterr().err
