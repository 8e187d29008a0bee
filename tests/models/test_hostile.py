"""SequenceClassifier and Seq2Seq under careless or hostile input: one clear line naming the
model, the argument, the value and the fix; nothing silently wrong (issue 13)."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.data import Vocab
from tinyseq.models import Seq2Seq, SequenceClassifier

SRC, TGT = Vocab("abcdef"), Vocab("xyz")


@pytest.fixture(scope="module")
def classifier():
    ts.manual_seed(0)
    return SequenceClassifier(10, 3, embedding_dim=4, hidden_size=5)


@pytest.fixture(scope="module")
def s2s():
    ts.manual_seed(0)
    return Seq2Seq(SRC, TGT, embedding_dim=4, hidden_size=5)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(vocab_size=1.5), TypeError, "vocab_size must be an int, got float 1.5"),
    (dict(num_classes=0), ValueError, "num_classes must be at least 1, got 0"),
    (dict(embedding_dim=0), ValueError, "embedding_dim must be at least 1, got 0"),
    (dict(hidden_size=True), TypeError, "hidden_size must be an int, got bool"),
    (dict(cell=["lstm"]), ValueError, r"cell must be one of rnn, gru, lstm, got \['lstm'\]"),
])
def test_classifier_constructor(kwargs, error, words):
    args = dict(vocab_size=10, num_classes=3) | kwargs
    with pytest.raises(error, match="SequenceClassifier: " + words):
        SequenceClassifier(**args)


@pytest.mark.parametrize("ids, error, words", [
    ([[10]], IndexError, "ids: id 10 is out of range: the vocabulary has 10 ids, 0 to 9"),
    ([[-1]], IndexError, "ids: id -1 is out of range"),  # used to read row 9 without a word
    ([4, 5], ValueError, r"ids must be \(T, B\) with one column per sequence, got shape \(2,\)"),
    (np.zeros((0, 2), int), ValueError, r"ids has no steps \(T=0\)"),
    ([[4, 5], [6]], ValueError, "ids must be a rectangular array of ids, got a ragged nested "
                                "list; pad it with ts.data.pad_batch"),
    ([[4.0]], TypeError, r"ids must be integer ids, got dtype float64; convert with"),
    ("hello", TypeError, "ids must be integer ids, got the str 'hello'; encode text"),
])
def test_classifier_forward_checks_ids(classifier, ids, error, words):
    with pytest.raises(error, match="SequenceClassifier: " + words) as e:
        classifier(ids)
    assert "\n" not in str(e.value)
    with pytest.raises(error, match="SequenceClassifier: "):
        classifier.predict(ids)


def test_classifier_takes_ids_of_every_int_kind(classifier):
    ids = np.array([[4, 5], [6, 0]])
    expected = classifier(ids, [2, 1]).numpy()
    for same in (ids.astype(np.int32), ids.astype(np.uint8), ts.tensor(ids), ids.tolist()):
        np.testing.assert_array_equal(classifier(same, [2, 1]).numpy(), expected)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(src_vocab="abc"), TypeError, "src_vocab must be a ts.data.Vocab, got str"),
    (dict(tgt_vocab=None), TypeError, "tgt_vocab must be a ts.data.Vocab, got NoneType"),
    (dict(embedding_dim=0), ValueError, "embedding_dim must be at least 1"),
    (dict(cell="rnn"), ValueError, "cell must be one of gru, lstm, got 'rnn'"),
])
def test_seq2seq_constructor(kwargs, error, words):
    args = dict(src_vocab=SRC, tgt_vocab=TGT) | kwargs
    with pytest.raises(error, match="Seq2Seq: " + words):
        Seq2Seq(**args)


def test_seq2seq_forward_checks_ids_and_batches(s2s):
    with pytest.raises(IndexError, match="Seq2Seq: src: id 99 is out of range: the vocabulary "
                                         "has 10 ids, 0 to 9"):
        s2s([[99]], None, [[2]])
    with pytest.raises(IndexError, match="Seq2Seq: tgt_in: id -1 is out of range"):
        s2s([[4]], None, [[-1]])
    with pytest.raises(ValueError, match=r"Seq2Seq: src \(S, B\) has B=2 sequences but tgt_in "
                                         r"\(T, B\) has B=1"):  # used to blame h_0
        s2s([[4, 5]], None, [[2]])
    with pytest.raises(ValueError, match=r"Seq2Seq: tgt_in has no steps \(T=0\)"):
        s2s([[4]], None, np.zeros((0, 1), int))
    with pytest.raises(IndexError, match="Seq2Seq: src: id -1 is out of range"):
        s2s.encode([[-1]])
    with pytest.raises(IndexError, match="Seq2Seq: tgt_in: id 7 is out of range: the vocabulary "
                                         "has 7 ids"):
        s2s.decode([[7]], s2s.encode([[4]]))


@pytest.mark.parametrize("pairs, error, words", [
    (["ab"], TypeError, "pair 0 must be a \\(source, target\\) pair of texts, got 'ab'"),
    (("abc", "xy"), TypeError, "pair 0 must be a \\(source, target\\) pair of texts"),
    ([("a", "x", "z")], TypeError, "pair 0 must be"),
    (None, TypeError, "pairs must be a list of \\(source, target\\) texts, got NoneType"),
    ([], ValueError, "no pairs given"),
    ([("ab", "x"), ("", "y")], ValueError, "source 1 '' has no tokens"),
])
def test_seq2seq_batch_and_loss_check_pairs(s2s, pairs, error, words):
    # ["ab"] used to train on the pair ("a", "b") without a word
    for call in (s2s.batch, s2s.loss):
        with pytest.raises(error, match="Seq2Seq.batch: " + words):
            call(pairs)


def test_seq2seq_log_prob_checks_its_ids(s2s):
    with pytest.raises(TypeError, match="Seq2Seq.log_prob: source must be integer ids, got "
                                        "dtype float64"):
        s2s.log_prob([4.7], [4])  # used to read 4.7 as 4
    with pytest.raises(IndexError, match="Seq2Seq.log_prob: tgt: id 99 is out of range"):
        s2s.log_prob("abc", [99])
    with pytest.raises(ValueError, match="Seq2Seq.log_prob: source '' has no tokens"):
        s2s.log_prob("", "xy")
    with pytest.raises(TypeError, match="Seq2Seq.log_prob: source must be a text or a sequence "
                                        "of ids, got NoneType"):
        s2s.log_prob(None, "x")
    assert s2s.log_prob([4, 5], [4]) == s2s.log_prob(ts.tensor([4, 5]), np.array([4]))


@pytest.mark.parametrize("call, error, words", [
    (lambda m: m.greedy("abc", max_len=-1), ValueError, "greedy: max_len must be at least 0"),
    (lambda m: m.greedy("abc", max_len=2.5), TypeError, "greedy: max_len must be an int"),
    (lambda m: m.greedy("abc", max_len=10 ** 15), MemoryError,
     "greedy: max_len=1000000000000000 could need .* GiB, more than this"),
    (lambda m: m.greedy(""), ValueError, "greedy: source '' has no tokens"),
    (lambda m: m.beam_search("abc", 2.5), TypeError, "beam_search: beam_size must be an int"),
    (lambda m: m.beam_search("abc", "3"), TypeError, "beam_search: beam_size must be an int"),
    (lambda m: m.beam_search("abc", 0), ValueError, "beam_search: beam_size must be at least 1"),
    (lambda m: m.beam_search("abc", 10 ** 9, max_len=12), MemoryError,  # (used to run for ever)
     "beam_search: beam_size=1000000000 with max_len=12 could need .* GiB, more than this"),
    (lambda m: m.beam_search("abc", 2, max_len=-3), ValueError,  # used to answer ''
     "beam_search: max_len must be at least 0"),
    (lambda m: m.beam_search("abc", 2, length_penalty=float("nan")), ValueError,
     "beam_search: length_penalty must be finite, got nan"),
    (lambda m: m.beam_search("abc", 2, length_penalty="a"), TypeError,
     "beam_search: length_penalty must be a number"),
    (lambda m: m.translate("abc"), TypeError,  # used to translate 'a', 'b' and 'c'
     r"translate: texts must be a list of sources, got str; for one text use greedy\(text\)"),
    (lambda m: m.translate(["abc", ""]), ValueError, "translate: source 1 '' has no tokens"),
    (lambda m: m.translate(["abc"], beam_size=0), ValueError, "translate: beam_size must be"),
])
def test_seq2seq_decoding_arguments(s2s, call, error, words):
    with pytest.raises(error, match=words) as e:
        call(s2s)
    assert "\n" not in str(e.value)


def test_seq2seq_decoding_edges(s2s):
    assert s2s.translate([]) == []
    assert s2s.greedy("abc", max_len=0) == "" == s2s.beam_search("abc", 3, max_len=0)
    assert s2s.greedy("abc", max_len=np.int64(4)) == s2s.translate(["abc"], max_len=4)[0]
    assert len(s2s.beam_search("abc", 10 ** 9, max_len=3)) <= 3  # a beam wider than V is cut


def test_seq2seq_warns_of_unknown_tokens_as_charlm_does(s2s):
    with pytest.warns(UserWarning, match="greedy: source: 'q' not in the vocabulary: read as "
                                         "<unk>") as record:
        s2s.greedy("aqq", max_len=2)
    assert record[0].filename == __file__  # it points at the caller's line
    with pytest.warns(UserWarning, match="translate: source 1: 'z' not in the vocabulary"):
        s2s.translate(["ab", "zz"], max_len=2)
    with pytest.warns(UserWarning, match="Seq2Seq.log_prob: target: 'q' not in the vocabulary"):
        s2s.log_prob("abc", "xq")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # training data is not warned about, batch after batch
        s2s.loss([("aq", "x")])
