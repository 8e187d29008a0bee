"""ts.utils.data's IterableDataset, ChainDataset and get_worker_info against torch.utils.data:
the same batches from a stream (batch_size, drop_last, collate_fn, batch_size=None), len(), and
torch's refusals of a sampler or shuffle."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq.utils import data
from tests.test_utils_data import same
from tests.torch_compare import torch

tdata = torch.utils.data


def stream(lib, n=7, sized=False):
    """An IterableDataset of ``lib`` yielding ``(x_i (2,), label_i)`` for i < n."""
    tensor = ts.tensor if lib is data else torch.tensor

    class Stream(lib.IterableDataset):
        def __iter__(self):
            for i in range(n):
                yield tensor([i, 2.0 * i]), i

    if sized:
        Stream.__len__ = lambda self: n
    return Stream()


@pytest.mark.parametrize("batch_size", [1, 3, 7, 10, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_of_a_stream_are_torchs(batch_size, drop_last):
    if batch_size is None and drop_last:
        return  # refused by both (batch_size=None disables batching)
    ours = list(data.DataLoader(stream(data), batch_size=batch_size, drop_last=drop_last))
    theirs = list(tdata.DataLoader(stream(tdata), batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        same(a, b)


def test_collate_fn_gets_each_group_of_samples():
    def collate(samples):
        return [label for _, label in samples]

    ours = list(data.DataLoader(stream(data), batch_size=3, collate_fn=collate))
    assert ours == list(tdata.DataLoader(stream(tdata), batch_size=3, collate_fn=collate))
    assert ours == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize("drop_last", [False, True])
def test_len_comes_from_the_datasets_len_or_is_a_type_error(drop_last):
    ours = data.DataLoader(stream(data, sized=True), batch_size=3, drop_last=drop_last)
    theirs = tdata.DataLoader(stream(tdata, sized=True), batch_size=3, drop_last=drop_last)
    assert len(ours) == len(theirs) == (2 if drop_last else 3)
    with pytest.raises(TypeError):
        len(data.DataLoader(stream(data), batch_size=3))


def test_chain_dataset_and_plus_chain_streams():
    for lib in (data, tdata):
        chained = lib.ChainDataset([stream(lib, 2), stream(lib, 3, sized=True)])
        assert [int(label) for _, label in chained] == [0, 1, 0, 1, 2]
        assert isinstance(stream(lib) + stream(lib), lib.ChainDataset)
        assert isinstance(stream(lib), lib.Dataset)
    assert len(data.ChainDataset([stream(data, 2, True), stream(data, 3, True)])) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(data.ChainDataset([stream(data, 1), data.TensorDataset(ts.ones(2))]))


def test_get_worker_info_is_none_in_the_main_process():
    assert data.get_worker_info() is tdata.get_worker_info() is None
    assert ts.utils.data.IterableDataset is data.IterableDataset


@pytest.mark.parametrize("options, words", [
    (dict(shuffle=True), "expected unspecified shuffle option, but got shuffle=True"),
    (dict(sampler=[0, 1]), "expected unspecified sampler option, but got sampler="),
    (dict(batch_sampler=[[0, 1]], batch_size=1), "expected unspecified batch_sampler option"),
])
def test_ordering_options_are_refused_as_torch_refuses_them(options, words):
    for lib in (data, tdata):
        with pytest.raises(ValueError, match=f"DataLoader with IterableDataset: {words}"):
            lib.DataLoader(stream(lib), **options)
    assert len(list(data.DataLoader(stream(data), shuffle=False))) == 7  # unset is fine


def test_an_iterable_dataset_without_iter_says_so():
    with pytest.raises(NotImplementedError, match="should implement __iter__"):
        iter(data.IterableDataset())
    np.testing.assert_array_equal(next(iter(data.DataLoader(stream(data), batch_size=2)))[0]
                                  .numpy(), [[0, 0], [1, 2]])
