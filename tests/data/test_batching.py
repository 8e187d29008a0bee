"""ts.data batching: LMStream windows for truncated BPTT, pad_batch, shuffled minibatches."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinyseq as ts
from tinyseq.data import LMStream, batches, pad_batch


def test_streams_cut_the_ids_into_equal_parts():
    s = LMStream(np.arange(23), batch_size=3, seq_len=4)  # L = 22 // 3 = 7, ids 22 dropped
    assert s.stream_len == 7 and len(s) == 2 and s.tokens_per_window == 12
    assert s.streams.T.tolist() == [list(range(0, 8)), list(range(7, 15)), list(range(14, 22))]


def test_window_contents_shapes_and_shift():
    s = LMStream(np.arange(23), batch_size=3, seq_len=4)
    x, y = s.window(0)
    assert x.shape == y.shape == (4, 3) and x.dtype == y.dtype == np.int64
    assert x.tolist() == [[0, 7, 14], [1, 8, 15], [2, 9, 16], [3, 10, 17]]
    np.testing.assert_array_equal(y, x + 1)
    x, y = s.window(1)  # the last window is shorter: 7 = 4 + 3
    assert x.tolist() == [[4, 11, 18], [5, 12, 19], [6, 13, 20]]
    assert y.tolist() == [[5, 12, 19], [6, 13, 20], [7, 14, 21]]


def test_next_window_continues_every_stream():
    ids = np.random.default_rng(0).integers(0, 50, size=101)
    s = LMStream(ids, batch_size=4, seq_len=6)
    for k in range(len(s) - 1):
        x0, y0 = s.window(k)
        x1, _ = s.window(k + 1)
        np.testing.assert_array_equal(x1[0], y0[-1])  # step after the window's last target
        np.testing.assert_array_equal(x0[1:], y0[:-1])


def test_windows_wrap_around_epochs_and_iterate_one_epoch():
    s = LMStream(np.arange(11), batch_size=2, seq_len=2)  # L = 5: windows of 2, 2, 1
    assert len(s) == 3
    assert [x.shape[0] for x, _ in s] == [2, 2, 1]
    for k in range(3):
        for a, b in zip(s.window(k), s.window(k + 3)):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(s.window(-1)[0], s.window(2)[0])


def test_windows_are_copies():
    s = LMStream(np.arange(11), batch_size=2, seq_len=2)
    x, _ = s.window(0)
    x[:] = -1
    assert s.window(0)[0].min() == 0


def test_accepts_lists_and_tensors():
    a = LMStream(list(range(9)), batch_size=2, seq_len=4)
    b = LMStream(ts.tensor(list(range(9))), batch_size=2, seq_len=4)
    np.testing.assert_array_equal(a.window(0)[0], b.window(0)[0])
    assert a.window(0)[0].tolist() == [[0, 4], [1, 5], [2, 6], [3, 7]]


def test_exactly_enough_and_too_short():
    LMStream(np.arange(13), batch_size=3, seq_len=4)  # 3 * 4 + 1 ids: one full window
    with pytest.raises(ValueError, match=r"12 ids are too few.*need at least .* = 13 ids"):
        LMStream(np.arange(12), batch_size=3, seq_len=4)
    with pytest.raises(ValueError, match="too few"):
        LMStream([7], batch_size=1, seq_len=1)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=0, seq_len=2), ValueError, "batch_size must be at least 1"),
    (dict(batch_size=2, seq_len=0), ValueError, "seq_len must be at least 1"),
    (dict(batch_size=2.0, seq_len=2), TypeError, "float"),
])
def test_bad_sizes(kwargs, error, message):
    with pytest.raises(error, match=message):
        LMStream(np.arange(50), **kwargs)


def test_bad_ids():
    with pytest.raises(TypeError, match="integers"):
        LMStream(np.linspace(0, 1, 50), batch_size=2, seq_len=2)
    with pytest.raises(ValueError, match="1-D"):
        LMStream(np.zeros((5, 10), dtype=np.int64), batch_size=2, seq_len=2)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 200), batch_size=st.integers(1, 8), seq_len=st.integers(1, 20))
def test_windows_rebuild_every_stream(n, batch_size, seq_len):
    ids = (np.arange(n) * 7919) % 1000  # distinct enough to catch misplaced ids
    L = (n - 1) // batch_size
    if L < seq_len:
        with pytest.raises(ValueError, match="too few"):
            LMStream(ids, batch_size, seq_len)
        return
    s = LMStream(ids, batch_size, seq_len)
    xs, ys = zip(*s)
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == y.shape == (L, batch_size)
    assert all(len(w) == seq_len for w in xs[:-1]) and 1 <= len(xs[-1]) <= seq_len
    for b in range(batch_size):
        stream = ids[b * L: b * L + L + 1]
        np.testing.assert_array_equal(x[:, b], stream[:-1])
        np.testing.assert_array_equal(y[:, b], stream[1:])


def test_pad_batch_values_and_lengths():
    ids, lengths = pad_batch([[5, 6, 7], [8], np.array([9, 10])], pad_id=0)
    assert ids.dtype == lengths.dtype == np.int64
    assert ids.shape == (3, 3)
    assert ids.tolist() == [[5, 8, 9], [6, 0, 10], [7, 0, 0]]
    assert lengths.tolist() == [3, 1, 2]


def test_pad_batch_pad_id_and_tensors():
    ids, lengths = pad_batch([ts.tensor([4, 5]), [6]], pad_id=-1)
    assert ids.tolist() == [[4, 6], [5, -1]] and lengths.tolist() == [2, 1]


def test_pad_batch_errors():
    with pytest.raises(ValueError, match="no sequences"):
        pad_batch([])
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_batch([[1], [], [2]])
    with pytest.raises(TypeError, match="integers"):
        pad_batch([[1.5]])


def test_batches_cover_every_index_once_in_random_order():
    got = list(batches(10, 4, np.random.default_rng(0)))
    assert [len(b) for b in got] == [4, 4, 2]
    assert sorted(np.concatenate(got).tolist()) == list(range(10))
    again = list(batches(10, 4, np.random.default_rng(0)))
    assert all((a == b).all() for a, b in zip(got, again))
    assert np.concatenate(got).tolist() != list(range(10))


def test_batches_follow_manual_seed():
    ts.manual_seed(3)
    first = np.concatenate(list(batches(20, 3)))
    ts.manual_seed(3)
    np.testing.assert_array_equal(first, np.concatenate(list(batches(20, 3))))
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        batches(5, 0)
