"""CharLM: shapes, the chain rule, sampling (temperature, top-k, <eos>, prime) and its errors."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq.data import Vocab
from tinyseq.models.charlm import CharLM

TEXT = "emma\nolivia\nava\nisabella\nsophia\nmia\namelia\n"


@pytest.fixture
def vocab():
    return Vocab.build(TEXT)


@pytest.mark.parametrize("embedding_dim, cell", [(None, "lstm"), (8, "gru"), (6, "rnn")])
def test_forward_gives_logits_per_step_and_a_state_to_carry(vocab, embedding_dim, cell):
    model = CharLM(vocab, 6, num_layers=2, cell=cell, embedding_dim=embedding_dim)
    logits, state = model(np.zeros((5, 3), dtype=np.int64))
    assert logits.shape == (5, 3, len(vocab))
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 6)


def test_tied_weights_are_one_parameter(vocab):
    model = CharLM(vocab, 8, embedding_dim=8, tie_weights=True)
    assert model.head.weight is model.embedding.weight
    assert sum(p is model.embedding.weight for p in model.parameters()) == 1
    with pytest.raises(ValueError, match="tie_weights needs embedding_dim == hidden_size"):
        CharLM(vocab, 8, embedding_dim=4, tie_weights=True)


def test_log_prob_is_the_chain_rule_one_step_at_a_time(vocab):
    model = CharLM(vocab, 7, cell="gru", embedding_dim=5)
    ids = [vocab.bos_id, *vocab.encode("mia"), vocab.eos_id]
    total, state = 0.0, None
    with ts.no_grad():
        for prev, nxt in zip(ids, ids[1:]):  # P(y1 | bos) P(y2 | bos y1) ... P(eos | ...)
            logits, state = model(np.array([[prev]]), state)
            p = logits.softmax(-1).numpy()[0, 0].astype(np.float64)
            total += np.log(p[nxt])
    assert model.log_prob("mia") == pytest.approx(total, rel=1e-5)
    assert model.log_prob("mia\nava") == pytest.approx(model.log_prob("mia")
                                                       + model.log_prob("ava"), rel=1e-6)
    assert model.perplexity("mia") == pytest.approx(np.exp(-total / 4), rel=1e-5)


def test_samples_start_with_the_prime_stop_at_eos_and_repeat_with_the_seed(vocab):
    model = CharLM(vocab, 8, embedding_dim=4)
    ts.manual_seed(3)
    first = model.sample(5, prime="a", max_len=12)
    ts.manual_seed(3)
    assert model.sample(5, prime="a", max_len=12) == first
    assert len(first) == 5 and all(s.startswith("a") and "\n" not in s for s in first)
    assert all(len(s) <= 1 + 12 for s in first)
    assert all(set(s) <= set(TEXT) for s in first)


def test_temperature_towards_zero_and_top_1_are_greedy(vocab):
    model = CharLM(vocab, 8, embedding_dim=4)
    greedy, ids, state = "", [vocab.bos_id], None
    with ts.no_grad():
        for _ in range(10):
            logits, state = model(np.array([[ids[-1]]]), state)
            scores = logits.numpy()[0, 0].copy()
            scores[[vocab.pad_id, vocab.bos_id, vocab.unk_id]] = -np.inf  # never sampled
            ids.append(int(scores.argmax()))
            if ids[-1] == vocab.eos_id:
                break
    greedy = vocab.decode(ids[1:])
    assert model.sample(3, temperature=1e-6, max_len=10) == [greedy] * 3
    assert model.sample(3, top_k=1, max_len=10) == [greedy] * 3


def test_bad_sampling_options_are_errors_and_unknown_prime_characters_warn(vocab):
    model = CharLM(vocab, 4)
    for temperature in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="temperature must be > 0 and finite"):
            model.sample(temperature=temperature)
    with pytest.raises(ValueError, match="n must be an int >= 0 and max_len >= 1"):
        model.sample(2, max_len=0)
    assert model.sample(0) == []
    assert all(len(s) <= 1 for s in model.sample(3, temperature=1e-320, max_len=1))
    with pytest.raises(ValueError, match="top_k must be an int between 1 and"):
        model.sample(top_k=0)
    with pytest.warns(UserWarning, match="'Z' not in the vocabulary"):
        out = model.sample(1, prime="Zoe", max_len=3)
    assert out[0].startswith("Zoe")
    with pytest.raises(ValueError, match="empty"):
        model.log_prob("\n")


def test_word_level_samples_keep_a_space_after_the_prime():
    vocab = Vocab.build("the cat sat\nthe dog ran\n", level="word")
    model = CharLM(vocab, 8, embedding_dim=4)
    out = model.sample(4, prime="the", max_len=3)
    assert all(s == "the" or s.startswith("the ") for s in out)
    assert all(set(s.split()) <= {"the", "cat", "sat", "dog", "ran"} for s in out)
