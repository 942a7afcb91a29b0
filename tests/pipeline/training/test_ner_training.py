"""``newsflow train ner`` refuses contradictory options before it loads torch or any data."""

import sys

import pytest

from pipeline.training.ner import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lang", "ar", "--silver", "yes"], "silver data exists for English only"),
        (["--lang", "en", "--silver", "no", "--gold-epochs", "2"], "--gold-epochs follows training on silver"),
        (["--lang", "en", "--gold-epochs", "-1"], "--gold-epochs -1 is negative"),
        # a tuning run leaves silver out by default, so gold-only epochs have nothing to follow
        (["--lang", "en", "--train-part", "0.9", "--gold-epochs", "2"], "--gold-epochs follows training on silver"),
        (["--lang", "en", "--silver", "no", "--soft", "1"], "--soft 1.0 needs silver data"),
        (["--lang", "en", "--soft", "-0.5"], "--soft -0.5 is negative"),
    ],
)
def test_contradictory_options_exit_2_with_a_message(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setitem(sys.modules, "torch", None)  # importing torch would now fail: refuse first
    assert main(argv + ["--data", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--silver", "no"], ["--train-part", "0.9"]])
def test_soft_targets_default_off_without_silver(tmp_path, capsys, monkeypatch, argv):
    # English defaults to --soft 1, which needs silver: runs without silver must still start
    # (here they stop at the missing corpus, past the option checks).
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError):  # reached the torch import: the options were accepted
        main(["--lang", "en", "--data", str(tmp_path)] + argv)


def test_crf_marginals_match_enumerating_every_tag_path():
    torch = pytest.importorskip("torch")  # training extra only
    import itertools

    import numpy as np

    from pipeline.training.ner import make_model

    model = make_model(torch, 5, np.zeros((4, 3), np.float32), 3, 4)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in (model.trans, model.start, model.end):
            p.normal_()
    em = torch.randn(2, 4, 3)
    em[1, 2:] = 50.0  # padding must not leak into the shorter sentence
    lengths = [4, 2]
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]).bool()
    got = model.log_marginals(em, mask).exp().detach().numpy()
    with torch.no_grad():
        for b, n in enumerate(lengths):
            z, marg = 0.0, np.zeros((n, 3))
            for path in itertools.product(range(3), repeat=n):
                s = model.start[path[0]] + model.end[path[-1]] + sum(em[b, t, path[t]] for t in range(n))
                s = s + sum(model.trans[path[t - 1], path[t]] for t in range(1, n))
                w = float(torch.exp(s))
                z += w
                for t, k in enumerate(path):
                    marg[t, k] += w
            np.testing.assert_allclose(got[b, :n], marg / z, atol=1e-5)
            # and the forward pass's log Z is the same partition function
            assert abs(float(model.forward_scores(em[b : b + 1], mask[b : b + 1])[1][0]) - np.log(z)) < 1e-4
