"""``IterableDataset``, ``ChainDataset`` and ``get_worker_info`` of ``torch.utils.data``, and how
a ``DataLoader`` batches an iterable dataset (``ts.utils.data`` imports them from here).

An iterable dataset is a stream: ``iter(dataset)`` yields the samples, in the dataset's own
order, so a loader takes no sampler and no shuffle; it groups the next ``batch_size`` samples
(the last group shorter, or dropped with ``drop_last``) and collates each group.
"""
import itertools

from .data import Dataset, Sampler

__all__ = ["IterableDataset", "ChainDataset", "get_worker_info"]


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__`` (and may define ``__len__``);
    ``a + b`` is ``ChainDataset([a, b])``."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):  # AssertionError, as torch
                raise AssertionError(f"ChainDataset only supports IterableDataset, got "
                                     f"{type(d).__name__}")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError(f"ChainDataset only supports IterableDataset, got "
                                     f"{type(d).__name__}")
            total += len(d)
        return total


class InfiniteConstantSampler(Sampler):
    """The sampler of a loader over an iterable dataset, as torch's: None forever (the stream,
    not indices, decides the samples)."""

    def __iter__(self):
        return itertools.repeat(None)


def get_worker_info():
    """None: tinyseq reads every batch in the main process (torch returns None there too), so an
    ``IterableDataset`` that splits its stream between workers reads all of it."""
    return None


def check_options(shuffle, sampler, batch_sampler):
    """Refuse the options that order samples, as torch does: an iterable dataset has its own
    order."""
    for name, value, unset in (("shuffle", shuffle, shuffle in (False, None)),
                               ("sampler", sampler, sampler is None),
                               ("batch_sampler", batch_sampler, batch_sampler is None)):
        if not unset:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} "
                             f"option, but got {name}={value!r}")


def batches(loader):
    """The batches of ``loader`` over its iterable dataset: each sample collated alone
    (``batch_size=None``), or groups of ``batch_size`` (the last shorter unless ``drop_last``)."""
    samples = iter(loader.dataset)
    if loader.batch_size is None:
        for sample in samples:
            yield loader.collate_fn(sample)
        return
    while group := list(itertools.islice(samples, loader.batch_size)):
        if len(group) < loader.batch_size and loader.drop_last:
            return
        yield loader.collate_fn(group)


def length(loader):
    """``len(loader)`` from ``len(dataset)`` (a TypeError if the stream has none, as torch)."""
    n = len(loader.dataset)
    if loader.batch_size is None:
        return n
    return n // loader.batch_size if loader.drop_last else -(-n // loader.batch_size)
