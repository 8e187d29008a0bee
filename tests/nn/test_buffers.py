"""Buffers (``register_buffer``) and what may be assigned to a module's attributes, as in PyTorch:
state kept by a module that is not a parameter, in ``state_dict()`` when persistent."""
import numpy as np
import pytest

import tinyseq as ts
from tests.programs.harness import HAVE_TORCH


def positional_model(torch, persistent=True):
    """A model written as PyTorch users write one with a buffer: a sinusoidal positional table."""
    nn = torch.nn

    class Positional(nn.Module):
        def __init__(self, d, n=6):
            super().__init__()
            position = torch.arange(n).unsqueeze(1).float()
            div_term = torch.exp(torch.arange(0, d, 2).float() * (-np.log(100.0) / d))
            pe = torch.zeros(n, d)
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            self.register_buffer("pe", pe, persistent=persistent)
            self.register_buffer("steps", torch.zeros((), dtype=torch.long))

        def forward(self, x):
            self.steps += 1
            return x + self.pe[: x.size(0)]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 4)
            self.pos = Positional(4)
            self.out = nn.Linear(4, 5)
            self.register_buffer("unused", None)

        def forward(self, x):
            return self.out(self.pos(self.embed(x)))

    return Model()


@pytest.mark.parametrize("persistent", [True, False])
def test_state_dict_keys_and_buffers_are_pytorchs(persistent):
    model = positional_model(ts, persistent)
    keys = ["embed.weight", "pos.pe", "pos.steps", "out.weight", "out.bias"]
    if not persistent:
        keys.remove("pos.pe")
    assert list(model.state_dict()) == keys
    assert [n for n, _ in model.named_buffers()] == ["pos.pe", "pos.steps"]
    assert [n for n, _ in model.named_parameters()] == ["embed.weight", "out.weight", "out.bias"]
    assert model.unused is None and len(list(model.buffers())) == 2
    if HAVE_TORCH:
        import torch

        theirs = positional_model(torch, persistent)
        assert list(theirs.state_dict()) == keys
        assert [n for n, _ in theirs.named_buffers()] == [n for n, _ in model.named_buffers()]
        np.testing.assert_allclose(model.pos.pe.numpy(), theirs.pos.pe.numpy(), rtol=1e-6)


@pytest.mark.skipif(not HAVE_TORCH, reason="compares with PyTorch")
def test_a_model_with_buffers_moves_between_the_libraries_and_updates_them():
    import torch

    torch.manual_seed(0)
    theirs, ours = positional_model(torch), positional_model(ts)
    ours.load_state_dict(theirs.state_dict())
    x = [1, 4, 0]
    for _ in range(2):
        expected = theirs(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(ours(ts.tensor(x)).detach().numpy(), expected, rtol=1e-5,
                                   atol=1e-6)
    assert ours.pos.steps.item() == theirs.pos.steps.item() == 2
    back = positional_model(torch)
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    assert back.pos.steps.item() == 2


def test_to_casts_floating_buffers_only():
    model = positional_model(ts).double()
    assert model.pos.pe.dtype == ts.float64 and model.pos.steps.dtype == ts.int64
    assert model.state_dict()["pos.pe"].dtype == ts.float64


def test_assigning_a_new_value_to_a_buffer_keeps_it_a_buffer():
    model = positional_model(ts)
    model.pos.pe = ts.ones(6, 4)
    assert model.state_dict()["pos.pe"].sum().item() == 24
    model.pos.pe = None
    assert "pos.pe" not in model.state_dict()
    del model.pos.steps
    assert [n for n, _ in model.named_buffers()] == []


def _attempt(torch, action):
    model = positional_model(torch)
    try:
        action(torch, model)
    except Exception as error:  # noqa: BLE001  (the type is what is compared)
        return type(error), str(error)
    return None, ""


CASES = {
    "buffer of an int": lambda torch, m: m.register_buffer("x", 3),
    "name with a dot": lambda torch, m: m.register_buffer("a.b", torch.zeros(1)),
    "empty name": lambda torch, m: m.register_buffer("", torch.zeros(1)),
    "name not a string": lambda torch, m: m.register_buffer(3, torch.zeros(1)),
    "name taken": lambda torch, m: m.register_buffer("out", torch.zeros(1)),
    "an int into a buffer": lambda torch, m: setattr(m.pos, "pe", 3),
    "a tensor as a parameter": lambda torch, m: setattr(m.out, "weight", torch.zeros(5, 4)),
    "an int as a child module": lambda torch, m: setattr(m, "out", 3),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_buffers_and_assignments_are_refused_as_in_torch(case):
    error, message = _attempt(ts, CASES[case])
    assert error is not None and "\n" not in message and len(message) < 200, message
    if HAVE_TORCH:
        import torch

        assert error is _attempt(torch, CASES[case])[0]


def test_none_is_a_parameters_and_a_modules_allowed_value_as_in_torch():
    model = positional_model(ts)
    model.out.bias = None
    model.pos = None
    assert list(model.state_dict()) == ["embed.weight", "out.weight"]
