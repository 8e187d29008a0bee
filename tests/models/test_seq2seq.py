"""Seq2Seq: shapes, teacher forcing with padding, greedy and beam search (eos, max_len, scores),
and the dates example."""
import datetime

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.data import Vocab
from tinyseq.app.examples import dates
from tinyseq.models.seq2seq import Seq2Seq

VOCAB = Vocab("abcde")


def reversals(rng, n):
    """Pairs (text, text reversed) of 2 to 6 letters."""
    texts = ["".join(rng.choice(list("abcde"), rng.integers(2, 7))) for _ in range(n)]
    return [(t, t[::-1]) for t in texts]


def trained(cell, steps, seed=0):
    """A small model after ``steps`` Adam steps on reversal, and its losses."""
    ts.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Seq2Seq(VOCAB, VOCAB, embedding_dim=16, hidden_size=32, cell=cell)
    opt = ts.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = model.loss(reversals(rng, 32))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


SOURCES = [t for t, _ in reversals(np.random.default_rng(1), 40)]


@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("gru", 2)])
def test_shapes(cell, layers):
    model = Seq2Seq(VOCAB, Vocab("xyz"), embedding_dim=6, hidden_size=10, cell=cell,
                    num_layers=layers)
    src, src_lengths, tgt_in, tgt_out = model.batch([("abc", "xy"), ("a", "zzzz")])
    assert src.shape == (3, 2) and src_lengths.tolist() == [3, 1]
    assert tgt_in.shape == tgt_out.shape == (5, 2)
    assert model(src, src_lengths, tgt_in).shape == (5, 2, 7)
    state = model.encode(src, src_lengths)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (layers, 2, 10)
    assert model.loss([("abc", "xy")]).shape == ()


def test_batch_is_bos_plus_target_in_and_target_plus_eos_out():
    model = Seq2Seq(VOCAB, Vocab("xyz"))
    _, _, tgt_in, tgt_out = model.batch([("abc", "xy"), ("a", "zzz")])
    x, y, z = (model.tgt_vocab[c] for c in "xyz")
    assert tgt_in.T.tolist() == [[2, x, y, 0], [2, z, z, z]]
    assert tgt_out.T.tolist() == [[x, y, 3, 0], [z, z, z, 3]]


def test_padding_is_ignored_by_encoder_and_loss():
    model = Seq2Seq(VOCAB, VOCAB, embedding_dim=6, hidden_size=10)
    short, long = ("ab", "ba"), ("abcde", "edcba")
    l_short, l_long = model.loss([short]).item(), model.loss([long]).item()
    both = model.loss([short, long]).item()  # the mean over all 3 + 6 target tokens
    assert both == pytest.approx((3 * l_short + 6 * l_long) / 9, rel=1e-5)


def test_log_prob_is_minus_the_summed_teacher_forced_loss():
    model = Seq2Seq(VOCAB, VOCAB, embedding_dim=6, hidden_size=10, cell="gru")
    assert model.log_prob("abc", "cb") == pytest.approx(-3 * model.loss([("abc", "cb")]).item(),
                                                        rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_teacher_forced_loss_decreases_on_reversal(cell):
    _, losses = trained(cell, 100)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])


@pytest.mark.parametrize("cell, steps", [("lstm", 0), ("gru", 0), ("lstm", 30), ("gru", 100)])
def test_greedy_is_beam_search_of_width_one(cell, steps):
    model, _ = trained(cell, steps)
    greedy = [model.greedy(s, max_len=10) for s in SOURCES]
    assert greedy == [model.beam_search(s, beam_size=1, max_len=10) for s in SOURCES]
    assert greedy == model.translate(SOURCES, max_len=10)  # batched greedy


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_wider_beam_finds_outputs_at_least_as_likely_as_greedy(cell):
    model, _ = trained(cell, 30)  # half trained: greedy is often not the likeliest output
    gain = []
    for src in SOURCES:
        greedy, beam = model.greedy(src, max_len=10), model.beam_search(src, 4, max_len=10)
        assert len(greedy) < 10  # finished within max_len, so its score is comparable
        gain.append(model.log_prob(src, beam) - model.log_prob(src, greedy))
    assert min(gain) > -1e-5
    assert sum(g > 1e-3 for g in gain) >= 10  # and strictly better on many of them


def _biased(token):
    """An untrained model whose head always prefers ``token`` by a wide margin."""
    model = Seq2Seq(VOCAB, VOCAB, embedding_dim=6, hidden_size=10)
    model.head.bias.data[:] = 0
    model.head.bias.data[token] = 20.0
    return model


@pytest.mark.parametrize("beam_size", [1, 3])
def test_decoding_stops_at_eos(beam_size):
    model = _biased(VOCAB.eos_id)
    assert model.beam_search("abc", beam_size, max_len=10) == ""
    assert model.translate(["abc", "de"], beam_size=beam_size) == ["", ""]


@pytest.mark.parametrize("beam_size", [1, 3])
@pytest.mark.parametrize("max_len", [1, 4, 9])
def test_decoding_respects_max_len(beam_size, max_len):
    model = _biased(VOCAB["c"])  # <eos> never wins: only max_len stops it
    assert model.beam_search("abc", beam_size, max_len=max_len) == "c" * max_len
    assert model.translate(["abc", "d"], beam_size, max_len) == ["c" * max_len] * 2


def test_with_length_normalisation_a_finished_output_beats_one_cut_at_max_len():
    model = _biased(VOCAB["c"])  # "c" likely, <eos> the runner-up
    model.head.bias.data[VOCAB.eos_id] = 10.0
    assert model.beam_search("abc", 2, max_len=4, length_penalty=1.0) == ""  # <eos> at once
    assert model.beam_search("abc", 2, max_len=4) == "cccc"  # by plain probability, cut wins


def test_decoding_never_proposes_pad_or_bos_and_leaves_training_mode_alone():
    model = _biased(VOCAB.pad_id)
    model.head.bias.data[VOCAB.bos_id] = 20.0
    model.head.bias.numpy()[VOCAB["e"]] = 10.0
    assert model.greedy("ab", max_len=3) == "eee"
    assert model.beam_search("ab", 2, max_len=3) == "eee"
    assert model.training


def test_ids_work_as_well_as_text():
    model, _ = trained("gru", 0)
    assert model.greedy(VOCAB.encode("abc")) == model.greedy("abc")
    with pytest.raises(ValueError, match="beam_size must be at least 1"):
        model.beam_search("abc", beam_size=0)


def test_generated_dates_are_consistent():
    train, test = dates.datasets(seed=5, n_train=300, n_test=100)
    assert len(train) == 300 and 0 < len(test) <= 100
    assert not {s for s, _ in test} & {s for s, _ in train}
    for src, tgt in train:
        assert len(tgt) == 10 and tgt[4] == tgt[7] == "-"
        year, month, day = (int(x) for x in tgt.split("-"))
        assert 1950 <= year <= 2049 and str(day) in src
    written = dates.formats(datetime.date(2019, 3, 3))
    assert {"3 march 2019", "sunday, 3 mar 2019", "03/03/19"} <= set(written)


def test_a_short_dates_run_translates_many_held_out_dates_exactly():
    _, metrics = dates.train(steps=200, seed=0, progress=False)
    assert metrics["greedy"] > 0.3  # measured 0.584 (300 steps: 0.865)
    assert metrics["beam"] > 0.3  # measured 0.636


def test_dates_main_prints_both_accuracies_and_a_table(capsys):
    dates.main(["--steps", "3", "--hidden", "8", "--beam", "2"])
    out = capsys.readouterr().out
    assert "held-out exact match" in out and "beam search (width 2)" in out
    assert "source" in out and "answer" in out


def test_a_beam_wider_than_the_vocabulary_still_gives_a_text():
    model, _ = trained("lstm", 30)
    wide = model.beam_search("abc", beam_size=20, max_len=10)  # 7 tokens can be outputs
    assert set(wide) <= set("abcde") and 0 < len(wide) < 10
    assert model.log_prob("abc", wide) >= model.log_prob("abc", model.greedy("abc")) - 1e-5
    with pytest.raises(ValueError, match="beam_size must be at least 1"):
        model.translate(["abc"], beam_size=0)
