"""``state_dict()`` as PyTorch's: an OrderedDict of detached Tensors on the parameters' memory,
every name of a tied parameter listed (``named_parameters()`` gives it once), ``prefix`` and
``keep_vars``; ``load_state_dict``'s ``_IncompatibleKeys``; tied models moving to and from PyTorch,
by dict and by file. Each case is built on both libraries and compared."""
from collections import OrderedDict

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch


def _tied_lm(lib, vocab=7, size=4):
    """The word language model's shape: Embedding -> LSTM -> Linear, the Linear's weight tied to
    the Embedding's (``decoder.weight = encoder.weight``), in ``lib`` (ts or torch)."""
    nn = lib.nn

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(vocab, size)
            self.rnn = nn.LSTM(size, size)
            self.decoder = nn.Linear(size, vocab)
            self.decoder.weight = self.encoder.weight

        def forward(self, ids):
            out, _ = self.rnn(self.encoder(ids))
            return self.decoder(out)

    return TiedLM()


def _shared_block(lib):
    """One Linear registered twice (``a`` and ``b``) inside a Sequential and a ModuleList."""
    nn = lib.nn
    block = nn.Linear(2, 3)
    root = nn.Module()
    root.a, root.b = block, block
    root.seq = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), block)
    root.blocks = nn.ModuleList([nn.Linear(2, 2)])
    return root


def _ids(shape=(5, 2), vocab=7, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, shape)


def _load_torch_into_ours(ours, theirs):
    """``theirs``' state_dict loaded into ``ours`` as torch tensors (no numpy step in between)."""
    return ours.load_state_dict(theirs.state_dict())


@pytest.mark.parametrize("make", [_tied_lm, _shared_block])
def test_names_are_torchs_state_dict_lists_every_name_parameters_each_once(make):
    ours, theirs = make(ts), make(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_modules(remove_duplicate=False)]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))


def test_values_are_detached_tensors_on_the_parameters_memory():
    lm = _tied_lm(ts)
    sd = lm.state_dict()
    assert type(sd) is OrderedDict
    for name, p in lm.state_dict(keep_vars=True).items():
        value = sd[name]
        assert type(value) is ts.Tensor and type(p) is ts.nn.Parameter, name
        assert not value.requires_grad and value.grad_fn is None, name
        assert np.shares_memory(value.numpy(), p.numpy()), name
    sd["decoder.weight"].zero_()  # as in torch, a write into the dict writes the (tied) parameter
    assert not lm.encoder.weight.numpy().any()
    destination = {"kept": 1}
    assert lm.state_dict(destination=destination) is destination and "kept" in destination


def test_keep_vars_gives_the_parameters_themselves_as_torch():
    ours, theirs = _tied_lm(ts), _tied_lm(torch)
    mine, reference = ours.state_dict(keep_vars=True), theirs.state_dict(keep_vars=True)
    assert mine["decoder.weight"] is ours.encoder.weight
    assert reference["decoder.weight"] is theirs.encoder.weight
    assert [v.requires_grad for v in mine.values()] == [v.requires_grad
                                                       for v in reference.values()]


def test_incompatible_keys_are_torchs_namedtuple_and_repr():
    ours, theirs = ts.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert repr(ours.load_state_dict(ours.state_dict())) == \
        repr(theirs.load_state_dict(theirs.state_dict())) == "<All keys matched successfully>"
    mine = ours.load_state_dict({"weight": ts.ones(2, 3), "extra": ts.ones(1)}, strict=False)
    reference = theirs.load_state_dict({"weight": torch.ones(2, 3), "extra": torch.ones(1)},
                                       strict=False)
    assert repr(mine) == repr(reference)
    assert mine.missing_keys == ["bias"] and mine.unexpected_keys == ["extra"]
    assert mine == (["bias"], ["extra"]) and str(mine) == str(reference)


def test_a_torch_tied_model_loads_into_tinyseq_and_back_and_stays_tied():
    torch.manual_seed(0)
    theirs, ours = _tied_lm(torch), _tied_lm(ts)
    assert repr(_load_torch_into_ours(ours, theirs)) == "<All keys matched successfully>"
    assert ours.decoder.weight is ours.encoder.weight
    ids = _ids()
    np.testing.assert_allclose(ours(ts.tensor(ids)).detach().numpy(),
                               theirs(torch.tensor(ids)).detach().numpy(), rtol=1e-5, atol=1e-6)
    back = _tied_lm(torch)
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in ours.state_dict().items()})
    assert back.decoder.weight is back.encoder.weight
    np.testing.assert_array_equal(back.decoder.weight.detach().numpy(),
                                  theirs.encoder.weight.detach().numpy())


def test_two_values_for_a_tied_parameter_load_as_torch_loads_them():
    """The later name wins in both (each name is copied into the one parameter, in order)."""
    ours, theirs = _tied_lm(ts), _tied_lm(torch)
    rng = np.random.default_rng(1)
    values = {k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
              for k, v in theirs.state_dict().items()}
    ours.load_state_dict(values)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()})
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    np.testing.assert_array_equal(ours.encoder.weight.numpy(), values["decoder.weight"])


def test_a_tied_model_saved_by_tinyseq_loads_in_torch_and_back(tmp_path):
    """ts.save writes the tie as two copies (safetensors' torch API would refuse one memory under
    two names); the file loads into a tied torch model, and into a tied tinyseq model that stays
    tied and trains as torch's does."""
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(2)
    theirs, ours = _tied_lm(torch), _tied_lm(ts)
    _load_torch_into_ours(ours, theirs)
    path = ts.save(ours.state_dict(), tmp_path / "lm.safetensors")
    from_file = _tied_lm(torch)
    from_file.load_state_dict(safetensors_torch.load_file(path))
    again = _tied_lm(ts)
    assert repr(again.load_state_dict(ts.load(path))) == "<All keys matched successfully>"
    assert again.decoder.weight is again.encoder.weight
    ids, targets = _ids(seed=3), _ids(seed=4)
    for model, lib in ((again, ts), (from_file, torch)):
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            logits = model(lib.tensor(ids))
            lib.nn.functional.cross_entropy(logits.reshape(-1, 7),
                                            lib.tensor(targets).reshape(-1)).backward()
            opt.step()
    assert again.decoder.weight is again.encoder.weight
    for (name, a), b in zip(again.state_dict().items(), from_file.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_reassigning_a_parameter_keeps_its_place_as_torch():
    ours, theirs = ts.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours.weight = ts.nn.Parameter(ts.zeros(2, 2))
    theirs.weight = torch.nn.Parameter(torch.zeros(2, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
