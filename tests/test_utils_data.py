"""ts.utils.data against torch.utils.data: the same batches in order, the same collated shapes
and dtypes, random_split's sizes, the same errors; shuffling visits every index once per epoch
and repeats under ts.manual_seed."""
import collections
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.utils import data
from tests.torch_compare import to_numpy_dtype, torch

tdata = torch.utils.data


def same(ours, theirs):
    """One collated batch of each library: same structure, types, shapes, dtypes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ts.Tensor), (ours, theirs)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert np.dtype(ours.numpy().dtype) == to_numpy_dtype(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is dict and list(ours) == list(theirs)
        for key in theirs:
            same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)) and not isinstance(theirs, str):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
    else:
        assert ours == theirs


def both(make):
    """``make(library, tensor)`` built on tinyseq and on torch."""
    return make(data, ts.tensor), make(tdata, torch.tensor)


X = np.arange(14 * 3, dtype=np.float32).reshape(14, 3)
Y = np.arange(14) % 4


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (4, False), (4, True), (14, True),
                                                   (20, False), (20, True)])
def test_sequential_batches_of_a_tensor_dataset_are_pytorchs(batch_size, drop_last):
    ours, theirs = both(lambda lib, t: lib.DataLoader(lib.TensorDataset(t(X), t(Y)),
                                                      batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        same(a, b)


class Pairs:
    """A dataset of mixed samples, as programs write them (no base class needed)."""

    def __init__(self, sample):
        self.sample = sample

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return self.sample(i)


Point = collections.namedtuple("Point", "x y")
SAMPLES = {
    "ints and floats": lambda i: (i, i / 2, True),
    "strings kept": lambda i: ("word%d" % i, i),
    "dict": lambda i: {"ids": np.arange(i, i + 3), "label": i % 2},
    "numpy float64 scalars": lambda i: np.float64(i) / 3,
    "numpy int32 arrays": lambda i: np.full((2, 2), i, dtype=np.int32),
    "nested list": lambda i: [[i, i + 1], (np.float32(i),)],
    "namedtuple": lambda i: Point(i, float(i)),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_gives_pytorchs_structure_shapes_and_dtypes(name):
    ours, theirs = both(lambda lib, t: lib.DataLoader(Pairs(SAMPLES[name]), batch_size=3))
    same(list(ours), list(theirs))  # (same checks the number of batches too)


def test_collate_of_tensors_and_unbatched_loading():
    rows = [torch.tensor(r) for r in X[:4]]
    same(data.default_collate([ts.tensor(r) for r in X[:4]]), tdata.default_collate(rows))
    ours, theirs = both(lambda lib, t: lib.DataLoader(Pairs(SAMPLES["dict"]), batch_size=None))
    same(list(ours), list(theirs))  # (same checks the number of batches too)
    same(data.default_convert((np.ones(2), 3)), tdata.default_convert((np.ones(2), 3)))


def test_collated_batches_keep_the_graph():
    w = ts.tensor([1.0, 2.0], requires_grad=True)
    batch = data.default_collate([w * 2, w * 3])
    batch.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [5.0, 5.0])


def test_concat_subset_and_plus():
    ours = data.TensorDataset(ts.tensor(X)) + data.TensorDataset(ts.tensor(X[:3]))
    theirs = tdata.TensorDataset(torch.tensor(X)) + tdata.TensorDataset(torch.tensor(X[:3]))
    assert isinstance(ours, data.ConcatDataset) and len(ours) == len(theirs) == 17
    for i in (0, 13, 14, 16, -1, -17):
        same(ours[i], theirs[i])
    with pytest.raises(IndexError, match="index 17 is out of range for 17"):
        ours[17]
    sub = data.Subset(ours, [16, 2])
    assert len(sub) == 2
    same(sub[0], tdata.Subset(theirs, [16, 2])[0])


@pytest.mark.parametrize("lengths", [[10, 4], [0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.2, 0.7],
                                     [1 / 3] * 3, [14], [1.0]])
def test_random_split_sizes_are_pytorchs(lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = data.random_split(list(range(14)), lengths)
        theirs = tdata.random_split(list(range(14)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(14))  # a partition


def test_random_split_warns_on_an_empty_part_as_pytorch():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        data.random_split(range(3), [0.9, 0.1])


def test_random_split_repeats_with_a_seed_or_a_generator():
    ts.manual_seed(3)
    first = [list(s.indices) for s in data.random_split(range(20), [0.5, 0.5])]
    ts.manual_seed(3)
    assert [list(s.indices) for s in data.random_split(range(20), [0.5, 0.5])] == first
    again = [data.random_split(range(20), [5, 15], generator=np.random.default_rng(7))[0].indices
             for _ in range(2)]
    assert again[0] == again[1]


def test_shuffle_visits_every_index_once_per_epoch_and_repeats_under_manual_seed():
    loader = data.DataLoader(data.TensorDataset(ts.tensor(Y), ts.arange(14)), batch_size=4,
                             shuffle=True)
    ts.manual_seed(0)
    epochs = [[i for _, idx in loader for i in idx.tolist()] for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(14))
    assert epochs[0] != epochs[1]  # a new order each epoch
    ts.manual_seed(0)
    assert [[i for _, idx in loader for i in idx.tolist()] for _ in range(3)] == epochs


def test_shuffle_with_a_numpy_generator():
    def epochs(seed):
        loader = data.DataLoader(list(range(10)), batch_size=3, shuffle=True,
                                 generator=np.random.default_rng(seed))
        return [[i for b in loader for i in b.tolist()] for _ in range(2)]
    assert epochs(1) == epochs(1) and sorted(epochs(1)[1]) == list(range(10))


def test_random_sampler_with_replacement_and_num_samples():
    ts.manual_seed(0)
    drawn = list(data.RandomSampler(range(4), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= set(range(4))
    more = list(data.RandomSampler(range(4), num_samples=10))  # permutations, as PyTorch
    assert sorted(more[:8]) == sorted(list(range(4)) * 2) and len(more) == 10


def test_samplers_and_batch_sampler_are_pytorchs():
    for lib in (data, tdata):
        assert list(lib.SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    for drop_last in (False, True):
        ours = data.BatchSampler(data.SequentialSampler(range(10)), 3, drop_last)
        theirs = tdata.BatchSampler(tdata.SequentialSampler(range(10)), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    sampler = [4, 0, 2]  # any iterable of indices, as PyTorch
    ours, theirs = both(lambda lib, t: lib.DataLoader(list("abcde"), sampler=sampler,
                                                      batch_size=2))
    assert list(ours) == list(theirs) == [["e", "a"], ["c"]]
    ours, theirs = both(lambda lib, t: lib.DataLoader(
        lib.TensorDataset(t(X)), batch_sampler=[[1, 2], [5]]))
    same(list(ours), list(theirs))  # (same checks the number of batches too)


def test_num_workers_is_accepted_and_reads_in_this_process():
    loader = data.DataLoader(list(range(6)), batch_size=4, num_workers=2, pin_memory=True,
                             persistent_workers=True, prefetch_factor=2)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]


ERRORS = [  # (keyword arguments of DataLoader, error type, words both libraries say)
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value"),
    (dict(batch_size=-2), ValueError, "batch_size should be a positive integer value"),
    (dict(batch_size=2.5), ValueError, "batch_size should be a positive integer value"),
    (dict(drop_last=1), ValueError, "drop_last should be a boolean value"),
    (dict(sampler=[0, 1], shuffle=True), ValueError,
     "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], shuffle=True), ValueError, "mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError,
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified"),
]


@pytest.mark.parametrize("kwargs, kind, words", ERRORS)
def test_dataloader_errors_are_pytorchs(kwargs, kind, words):
    with pytest.raises(kind, match=words):
        tdata.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(kind, match=words) as error:
        data.DataLoader(list(range(4)), **kwargs)
    assert "\n" not in str(error.value)


def test_dataset_errors():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        tdata.TensorDataset(torch.zeros(3, 2), torch.zeros(4))
    with pytest.raises(AssertionError, match=r"tensor 1 has shape \(4,\) but tensor 0 has 3 rows"):
        data.TensorDataset(ts.zeros(3, 2), ts.zeros(4))
    for lib in (data, tdata):
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            lib.random_split(range(5), [2, 2])
        with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
            lib.random_split(range(5), [1.5, -0.5])
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            lib.RandomSampler(range(3), num_samples=0)
        with pytest.raises(TypeError, match="replacement should be a boolean"):
            lib.RandomSampler(range(3), replacement=1)
        with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
            lib.default_collate([[1, 2], [3]])
        with pytest.raises(NotImplementedError):
            lib.Dataset()[0]
    with pytest.raises(TypeError, match="generator must be None or a numpy.random.Generator"):
        data.DataLoader(range(3), shuffle=True, generator=3)
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        data.default_collate([object()])


def test_a_pytorch_style_training_loop_runs():
    """The usual shape of a program: a Dataset subclass, random_split, shuffled loader, epochs."""
    class Sequences(data.Dataset):
        def __init__(self):
            self.x = ts.randn(20, 5, 3)
            self.y = ts.tensor(np.arange(20) % 2)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.x[i], self.y[i]

    ts.manual_seed(0)
    train, valid = data.random_split(Sequences(), [0.8, 0.2])
    loader = data.DataLoader(train, batch_size=6, shuffle=True)
    rnn, head = ts.nn.LSTM(3, 4, batch_first=True), ts.nn.Linear(4, 2)
    for _ in range(2):
        for x, y in loader:
            out, _ = rnn(x)
            loss = ts.nn.functional.cross_entropy(head(out[:, -1]), y)
            loss.backward()
    assert len(loader) == 3 and len(valid) == 4 and x.shape == (4, 5, 3)
