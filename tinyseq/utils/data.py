"""``ts.utils.data``: PyTorch's ``torch.utils.data`` for map-style datasets.

``from tinyseq.utils.data import Dataset, DataLoader`` reads as in PyTorch::

    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    for xb, yb in loader:          # xb: (32, ...) stacked from x's rows, yb: (32, ...)
        ...

A ``DataLoader`` asks a sampler for indices (``SequentialSampler``, or ``RandomSampler`` when
``shuffle=True``), groups them with a ``BatchSampler``, reads ``dataset[i]`` for each and joins
the samples with ``collate_fn`` (``default_collate``: Tensors stacked, numbers made tensors,
tuples/lists/dicts collated field by field). Random orders come from tinyseq's generator
(``ts.manual_seed``), or from ``generator=``, a ``ts.Generator`` (or a ``numpy.random.Generator``).
"""
import bisect
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ..autograd import Tensor, rng
from ..autograd.factories import float64, from_numpy, tensor
from ..autograd.namespace import stack

__all__ = ["Dataset", "TensorDataset", "ConcatDataset", "Subset", "Sampler", "SequentialSampler",
           "RandomSampler", "BatchSampler", "DataLoader", "random_split", "default_collate",
           "default_convert", "IterableDataset", "ChainDataset", "get_worker_info"]


def _numpy_rng(generator, who):
    """The ``numpy.random.Generator`` to draw from: ``generator``'s (a ``ts.Generator`` or a numpy
    Generator), or the default stream's (read at each draw, so a later ``ts.manual_seed``
    counts)."""
    return rng.numpy_generator(who, generator)


# ---- datasets -----------------------------------------------------------------------------------
class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample ``i`` and ``len(dataset)`` their number.
    Subclasses define ``__getitem__`` (and ``__len__``); ``a + b`` is ``ConcatDataset([a, b])``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """``TensorDataset(x, y)``: sample ``i`` is ``(x[i], y[i])``; every tensor has the same first
    dimension N (the samples)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor, e.g. TensorDataset(x, y)")
        n = tensors[0].shape[0]
        for k, t in enumerate(tensors[1:], 1):
            if t.shape[0] != n:  # AssertionError, as PyTorch
                raise AssertionError(
                    f"TensorDataset: Size mismatch between tensors: tensor {k} has shape "
                    f"{tuple(t.shape)} but tensor 0 has {n} rows; every tensor needs the same "
                    f"first dimension")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other (``a + b``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index %= n
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``random_split`` returns these)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """``dataset`` cut at random into ``Subset``s of the given ``lengths``: sample counts that sum
    to ``len(dataset)``, or fractions that sum to 1 (floored; the remainder goes one by one to
    the first parts, as PyTorch)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: Fraction at index {i} is not between 0 and 1 "
                                 f"(got {frac})")
        counts = [math.floor(len(dataset) * frac) for frac in lengths]
        for i in range(len(dataset) - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.")
        lengths = counts
    if any(n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths must not be negative, got {lengths}")
    if sum(lengths) != len(dataset):
        raise ValueError(f"random_split: Sum of input lengths does not equal the length of the "
                         f"input dataset! ({sum(lengths)} != {len(dataset)}); give counts that "
                         f"sum to {len(dataset)} or fractions that sum to 1")
    order = _numpy_rng(generator, "random_split").permutation(len(dataset)).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - n:end]) for end, n in zip(ends, lengths)]


# ---- samplers -----------------------------------------------------------------------------------
class Sampler:
    """Yields dataset indices; subclasses define ``__iter__`` (and ``__len__``)."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of Sampler should implement __iter__.")


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random order of the indices at each ``iter``: a permutation (every index once), or
    ``num_samples`` draws with ``replacement=True``."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        _numpy_rng(generator, "RandomSampler")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) \
                or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={self.num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, draws = len(self.data_source), _numpy_rng(self.generator, "RandomSampler")
        if self.replacement:
            yield from draws.integers(n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from draws.permutation(n).tolist()
        yield from draws.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter, or
    dropped with ``drop_last=True``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, but "
                             f"got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


# ---- collating ----------------------------------------------------------------------------------
def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_convert(data):
    """One sample without batching (``batch_size=None``): numpy arrays and scalars become
    Tensors, containers are converted inside (tuples become lists, as PyTorch); the rest stays."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "SUO":
        return from_numpy(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "SUO":
        return from_numpy(np.asarray(data))
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """A list of B samples as one batch: Tensors (and numpy arrays) stacked to ``(B, ...)``, ints
    to an int64 ``(B,)`` tensor, floats to a float64 one (as PyTorch), strings kept as a list,
    dicts/tuples/lists collated field by field (a tuple of fields becomes a list, as PyTorch)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch))
    if isinstance(elem, (np.ndarray, np.generic)) and elem.dtype.kind not in "SUO":
        return stack([from_numpy(np.asarray(b)) for b in batch])
    if isinstance(elem, float):
        return tensor(list(batch), dtype=float64)
    if isinstance(elem, int):  # bool included: a bool tensor
        return tensor(list(batch))
    if isinstance(elem, (str, bytes)):  # as given: a list, or a tuple inside a container
        return batch
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem).__name__}; give a collate_fn for other samples")


# ---- the loader ---------------------------------------------------------------------------------
class DataLoader:
    """Batches of ``dataset``, one per step of ``for batch in loader``; ``len(loader)`` batches.

    ``batch_size`` samples per batch (``None``: one sample at a time, not batched), in order or
    shuffled (``shuffle=True``: a new order each epoch from ``generator``, else from tinyseq's
    generator, ``ts.manual_seed``), or in the order of a ``sampler`` / a ``batch_sampler``.
    ``collate_fn`` joins a batch's samples (``default_collate``). ``num_workers``, ``pin_memory``,
    ``timeout``, ``worker_init_fn``, ``prefetch_factor``, ``persistent_workers`` are accepted for
    PyTorch's programs, and checked as PyTorch does, but every batch is read in the main process
    (``worker_init_fn`` is not called).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             "num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in "
                             "multiprocessing; give num_workers > 0, or prefetch_factor=None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)  # a stream: read in its own order
        if iterable:
            _iterable.check_options(shuffle, sampler, batch_sampler)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None and iterable:
            sampler = _iterable.InfiniteConstantSampler()
        elif sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from _iterable.batches(self)
            return
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            return _iterable.length(self)
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)


# (last: they subclass Dataset, defined above)
from . import _iterable  # noqa: E402
from ._iterable import ChainDataset, IterableDataset, get_worker_info  # noqa: E402
