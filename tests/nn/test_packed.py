"""Packed sequences (``ts.nn.utils.rnn``) against PyTorch: packing and padding (values, indices,
gradients), ``PackedSequence``'s methods, the refusals, RNN/GRU/LSTM on packed input over a grid
(outputs, states, every gradient), gradcheck, and the pack -> LSTM -> unpack -> classify pattern
run with only the import switched."""
import itertools

import numpy as np
import pytest

import tinyseq as ts
from tests.programs.harness import run_both, start
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch

R, TR = ts.nn.utils.rnn, torch.nn.utils.rnn


def _padded(shape, batch_first):
    """A float64 array ``(T, B, *shape[2:])``, or ``(B, T, ...)`` with ``batch_first``."""
    x = np.random.default_rng(0).standard_normal(shape)
    return x.swapaxes(0, 1).copy() if batch_first else x


def _same_packed(ours, theirs):
    """Two PackedSequences alike: data exactly, batch_sizes and both indices (or None)."""
    assert isinstance(ours, R.PackedSequence)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.detach().numpy())
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        a, b = getattr(ours, field), getattr(theirs, field)
        assert (a is None) == (b is None), field
        if a is not None:
            assert a.numpy().dtype == np.int64, field
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=field)


# ---- packing and padding ---------------------------------------------------------------------
LENGTHS = {"sorted": [5, 5, 3, 2], "unsorted": [2, 5, 3, 5], "ties": [3, 1, 3, 3],
           "full": [5, 5, 5, 5], "one": [1, 1, 1, 1]}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("name", LENGTHS)
@pytest.mark.parametrize("trailing", [(), (3,), (2, 3)])
def test_pack_padded_sequence_is_torchs(batch_first, name, trailing):
    lengths = LENGTHS[name]
    x = _padded((5, 4) + trailing, batch_first)
    for spell in (list, lambda v: ts.tensor(v)):  # lengths as a list or an int64 tensor
        for enforce_sorted in [False] + [True] * (lengths == sorted(lengths, reverse=True)):
            ours = R.pack_padded_sequence(ts.from_numpy(x), spell(lengths), batch_first,
                                          enforce_sorted)
            theirs = TR.pack_padded_sequence(torch.from_numpy(x), lengths, batch_first,
                                             enforce_sorted)
            _same_packed(ours, theirs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_is_torchs_with_its_gradient(batch_first, total_length):
    """pack -> pad, both differentiable: the padded output, the lengths and d/dinput."""
    def round_trip(m, x):
        packed = m.nn.utils.rnn.pack_padded_sequence(x, [2, 5, 1, 4], batch_first,
                                                     enforce_sorted=False)
        return m.nn.utils.rnn.pad_packed_sequence(packed, batch_first, padding_value=-1.5,
                                                  total_length=total_length)

    ours, _ = compare_with_torch(round_trip, arrays=[_padded((5, 4, 3), batch_first)])
    assert ours[1].numpy().dtype == np.int64 and ours[1].tolist() == [2, 5, 1, 4]


def test_pack_then_pad_gives_the_padded_batch_back_and_pad_then_pack_the_packed():
    x = ts.randn(6, 3, 2)
    lengths = [4, 6, 1]
    packed = R.pack_padded_sequence(x, lengths, enforce_sorted=False)
    padded, back = R.pad_packed_sequence(packed)
    assert padded.shape == (6, 3, 2) and back.tolist() == lengths
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(padded[:n, b].numpy(), x[:n, b].numpy())
        assert not padded[n:, b].numpy().any()
    again = R.pack_padded_sequence(padded, back, enforce_sorted=False)
    np.testing.assert_array_equal(again.data.numpy(), packed.data.numpy())
    np.testing.assert_array_equal(again.sorted_indices.numpy(), packed.sorted_indices.numpy())


@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_sequence_and_unpack_sequence_are_torchs(enforce_sorted):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((n, 2)) for n in ([4, 2, 1] if enforce_sorted else [2, 4, 1])]

    def pack_unpack(m, *sequences):
        packed = m.nn.utils.rnn.pack_sequence(list(sequences), enforce_sorted)
        return (packed.data, *m.nn.utils.rnn.unpack_sequence(packed))

    ours, theirs = compare_with_torch(pack_unpack, arrays=arrays)
    for array, back in zip(arrays, ours[1:]):
        np.testing.assert_array_equal(back.numpy(), array)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_is_torchs_and_leaves_its_argument_alone(batch_first):
    x = _padded((5, 3, 2), batch_first)
    lengths = [3, 5, 1]
    ours, theirs = compare_with_torch(
        lambda m, x: m.nn.utils.rnn.unpad_sequence(x.clone(), m.tensor(lengths), batch_first),
        arrays=[x])
    assert [o.shape for o in ours] == [(3, 2), (5, 2), (1, 2)]
    given = ts.from_numpy(x.copy())
    R.unpad_sequence(given, lengths, batch_first)  # (PyTorch's transposes its argument in place)
    assert given.shape == x.shape


# ---- PackedSequence ---------------------------------------------------------------------------
def test_packed_sequence_is_a_named_tuple_printed_as_torchs():
    ours = R.pack_sequence([ts.tensor([1, 2, 3]), ts.tensor([4, 5])])
    theirs = TR.pack_sequence([torch.tensor([1, 2, 3]), torch.tensor([4, 5])])
    assert repr(ours) == repr(theirs)
    assert ours._fields == theirs._fields and len(ours) == 4
    data, batch_sizes, sorted_indices, unsorted_indices = ours
    assert data is ours.data and sorted_indices is None and unsorted_indices is None


def test_packed_sequence_fills_in_unsorted_indices_and_takes_a_pair():
    data, batch_sizes = ts.randn(4, 2), ts.tensor([2, 1, 1])
    ours = R.PackedSequence(data, batch_sizes, ts.tensor([1, 0]))
    theirs = TR.PackedSequence(torch.from_numpy(data.numpy()), torch.tensor([2, 1, 1]),
                               torch.tensor([1, 0]))
    _same_packed(ours, theirs)
    pair = R.PackedSequence((data, batch_sizes))
    assert pair.data is data and pair.batch_sizes is batch_sizes and pair.sorted_indices is None
    with pytest.raises(TypeError, match="PackedSequence: give data and batch_sizes"):
        R.PackedSequence(data)


def test_packed_sequence_to_converts_data_only_and_is_itself_when_nothing_changes():
    for lib in (ts, torch):
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2, 2), [3, 1],
                                                       enforce_sorted=False)
        assert packed.to(lib.float32) is packed and packed.float() is packed
        assert packed.cpu() is packed and packed.to("cpu") is packed and not packed.is_cuda
        double = packed.double()
        assert double.data.dtype == lib.float64 and double.batch_sizes is packed.batch_sizes
        assert double.sorted_indices is packed.sorted_indices
        assert packed.long().data.dtype == lib.int64 and packed.int().data.dtype == lib.int32
    with pytest.raises(RuntimeError, match="tinyseq runs on the CPU only"):
        R.pack_sequence([ts.ones(2)]).cuda()


# ---- what is refused ----------------------------------------------------------------------------
X = np.zeros((4, 3, 2), np.float32)


def _pack(lib, lengths=(3, 2, 1), x=X, **options):
    return lib.nn.utils.rnn.pack_padded_sequence(lib.from_numpy(x), list(lengths), **options)


REFUSED = {  # name: (call on ts or torch, the error both raise, our words)
    "unsorted": (lambda m: _pack(m, [2, 3, 1]), RuntimeError,
                 r"got lengths \[2, 3, 1\]; `lengths` array must be sorted in decreasing order"),
    "zero length": (lambda m: _pack(m, [3, 2, 0]), RuntimeError,
                    r"every length must be >= 1, got \[3, 2, 0\]"),
    "negative, unsorted": (lambda m: _pack(m, [-1, 2, 3], enforce_sorted=False), RuntimeError,
                           "every length must be >= 1"),
    "too few lengths": (lambda m: _pack(m, [3, 2]), RuntimeError,
                        r"but got 2 \(batch_size=3\); give one length per sequence"),
    "2-d lengths": (lambda m: m.nn.utils.rnn.pack_padded_sequence(
        m.from_numpy(X), m.tensor([[3, 2, 1]])), RuntimeError, "a list or a 1-d Tensor of ints"),
    "1-d input": (lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(3), [1]), IndexError,
                  r"input must be \(T, B, \*\) or \(B, T, \*\), got shape \(3,\)"),
    "empty batch": (lambda m: _pack(m, [], x=X[:, :0]), RuntimeError, "cannot pack empty"),
    "batch_first None": (lambda m: _pack(m, batch_first=None), TypeError,
                         "batch_first must be True or False, got None"),
    "total_length 2": (lambda m: m.nn.utils.rnn.pad_packed_sequence(_pack(m), total_length=2),
                       ValueError, "but got total_length=2 and max sequence length being 3"),
    "total_length 3.5": (lambda m: m.nn.utils.rnn.pad_packed_sequence(_pack(m),
                                                                       total_length=3.5),
                         TypeError, r"total_length must be an int, got 3.5"),
    "padding_value 'a'": (lambda m: m.nn.utils.rnn.pad_packed_sequence(_pack(m),
                                                                       padding_value="a"),
                          TypeError, "padding_value must be a number, got 'a'"),
    "pack_sequence []": (lambda m: m.nn.utils.rnn.pack_sequence([]), RuntimeError,
                         "pack_sequence: received an empty list of sequences"),
    "packed data 3-d": (lambda m: m.nn.GRU(2, 3)(m.nn.utils.rnn.PackedSequence(
        m.zeros(6, 1, 2), m.tensor([3, 2, 1]))), RuntimeError,
                        r"GRU: expected a 2-d PackedSequence data \(N, input_size\), got shape"),
    "packed features": (lambda m: m.nn.GRU(3, 3)(_pack(m)), RuntimeError,
                        r"GRU: PackedSequence data has 2 features \(shape \(6, 2\)\), but the "
                        "layer was built with input_size=3"),
    "packed hx batch": (lambda m: m.nn.GRU(2, 3)(_pack(m), m.zeros(1, 2, 3)), RuntimeError,
                        r"GRU: hx must have shape \(1, 3, 3\)"),
}
# PyTorch refuses these otherwise, or not at all
OURS_ONLY = {
    "pad_packed_sequence(tensor)": (  # PyTorch: AttributeError ('Tensor' ... 'batch_sizes')
        lambda: R.pad_packed_sequence(ts.zeros(3, 2)), TypeError,
        "pad_packed_sequence: sequence must be a PackedSequence, got Tensor"),
    "packed and lengths=": (  # PyTorch: TypeError, forward() has no argument lengths
        lambda: ts.nn.GRU(2, 3)(_pack(ts), lengths=[3, 2, 1]), TypeError,
        "GRU: lengths= is for a padded input; a PackedSequence carries its lengths"),
    "length > T": (  # PyTorch packs memory past the input's end, without a word
        lambda: _pack(ts, [5, 2, 1]), RuntimeError, r"lengths must be at most T=4 .* got 5"),
    "length 2.5": (  # PyTorch truncates it to 2
        lambda: _pack(ts, [3, 2.5, 1]), ValueError, "lengths must be whole numbers"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_as_torch_refuses_in_one_line(case):
    call, error, words = REFUSED[case]
    with pytest.raises(error, match=words) as info:
        call(ts)
    assert "\n" not in str(info.value)
    with pytest.raises(error):
        call(torch)


@pytest.mark.parametrize("case", OURS_ONLY, ids=list(OURS_ONLY))
def test_refused_where_torch_does_otherwise(case):
    call, error, words = OURS_ONLY[case]
    with pytest.raises(error, match=words) as info:
        call()
    assert "\n" not in str(info.value)


def test_what_torch_accepts_is_accepted():
    for lengths in ([3.0, 2.0, 1.0], [True, True, True], ts.tensor([3, 2, 1], dtype=ts.int32)):
        theirs = TR.pack_padded_sequence(torch.from_numpy(X), torch.tensor(np.asarray(lengths)))
        _same_packed(R.pack_padded_sequence(ts.from_numpy(X), lengths), theirs)


# ---- the layers on packed input ------------------------------------------------------------------
GRID = [dict(kind=k, num_layers=L, bidirectional=bi, batch_first=bf, hx=h, sort=s)
        for k, L, bi, bf, h, s in itertools.product(
            ["RNN", "GRU", "LSTM"], [1, 2], [False, True], [False, True], [False, True],
            ["unsorted", "sorted"])
        if s == "unsorted" or (L == 1 and h)]  # enforce_sorted=True: one case per kind/layout


@pytest.mark.parametrize("cfg", GRID, ids=["-".join(f"{k}={v}" for k, v in c.items())
                                           for c in GRID])
def test_layer_on_packed_input_is_torchs(cfg):
    kind, L, bf, bi = cfg["kind"], cfg["num_layers"], cfg["batch_first"], cfg["bidirectional"]
    lengths = LENGTHS[cfg["sort"]]
    rng = np.random.default_rng(0)
    x = _padded((5, 4, 3), bf)
    h0 = tuple(rng.standard_normal((L * (1 + bi), 4, 4)) for _ in range(1 + (kind == "LSTM")))
    state = [h0 if kind == "LSTM" else h0[0]] if cfg["hx"] else []

    def packed(m, layer, x, *state):
        seq = m.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=bf,
                                                  enforce_sorted=cfg["sort"] == "sorted")
        out, last = layer(seq, *state)
        assert isinstance(out, m.nn.utils.rnn.PackedSequence)
        assert out.batch_sizes is seq.batch_sizes and out.sorted_indices is seq.sorted_indices
        return out.data, last

    compare_module_with_torch(
        lambda nn: getattr(nn, kind)(3, 4, num_layers=L, bidirectional=bi, batch_first=bf),
        [x, *state], forward=packed)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_packed_input_gives_what_lengths_gives(kind):
    layer = getattr(ts.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    x, lengths = ts.randn(5, 3, 3), [2, 5, 4]
    out, h_n = layer(R.pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded_out, padded_h_n = layer(x, lengths=lengths)
    np.testing.assert_allclose(R.pad_packed_sequence(out)[0].numpy(), padded_out.numpy())
    states = (lambda s: s if kind == "LSTM" else (s,))
    for a, b in zip(states(h_n), states(padded_h_n)):
        np.testing.assert_allclose(a.numpy(), b.numpy())


def test_a_packed_gru_passes_gradcheck():
    gru = ts.nn.GRU(2, 3, bidirectional=True).double()
    x = ts.randn(4, 3, 2, dtype=ts.float64, requires_grad=True)
    h0 = ts.randn(2, 3, 3, dtype=ts.float64, requires_grad=True)

    def run(x, h0):
        packed = R.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        out, h_n = gru(packed, h0)
        padded, _ = R.pad_packed_sequence(out, batch_first=True)
        return (padded * padded).sum() + (h_n * h_n).sum()

    assert ts.autograd.gradcheck(run, (x, h0))


# ---- a PyTorch program: pack, run an LSTM, unpack, classify the last state -----------------------
def classify_padded(torch, initial, steps=25):
    """The usual text classifier over padded token batches, as PyTorch users write it."""
    nn = torch.nn
    torch.manual_seed(0)

    class Classifier(nn.Module):
        def __init__(self, vocab_size, embedding_dim, hidden_dim, num_classes):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(2 * hidden_dim, num_classes)

        def forward(self, text, text_lengths):
            embedded = self.embedding(text)
            packed = nn.utils.rnn.pack_padded_sequence(embedded, text_lengths.cpu(),
                                                       batch_first=True, enforce_sorted=False)
            packed_output, (hidden, cell) = self.lstm(packed)
            output, output_lengths = nn.utils.rnn.pad_packed_sequence(packed_output,
                                                                      batch_first=True)
            hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
            return self.fc(hidden), output, output_lengths

    rng = np.random.default_rng(0)  # label: does the sentence start with an even token?
    lengths = rng.integers(1, 7, size=8)
    sentences = [torch.tensor(rng.integers(1, 10, size=n).tolist()) for n in lengths]
    text = nn.utils.rnn.pad_sequence(sentences, batch_first=True)
    labels = torch.tensor([int(s[0]) % 2 for s in sentences])
    text_lengths = torch.tensor(lengths.tolist())

    model = Classifier(10, 5, 6, 2)
    weights = start(model, initial, torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        logits, output, output_lengths = model(text, text_lengths)
        loss = criterion(logits, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"initial": weights, "losses": losses, "output": output.detach().numpy(),
            "output_lengths": output_lengths.tolist(), "lengths": lengths.tolist(),
            "predicted": logits.argmax(1).tolist(), "labels": labels.tolist()}


def test_pack_lstm_unpack_classify_runs_unchanged_and_follows_pytorch():
    ours, theirs = run_both(classify_padded)
    assert ours["output_lengths"] == ours["lengths"]
    assert ours["output"].shape == (8, max(ours["lengths"]), 12)
    assert ours["losses"][-1] < 0.2 * ours["losses"][0]  # it learns
    assert ours["predicted"] == ours["labels"]
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours["output"], theirs["output"], rtol=1e-4, atol=1e-5)
