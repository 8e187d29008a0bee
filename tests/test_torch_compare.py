"""The helpers of ``tests/torch_compare.py`` fail where they must: a wrong value, gradient, dtype,
parameter name, state or learning rate is found and named; a numpy warning is an error."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import (compare_module_with_torch, compare_optimizer_with_torch,
                                 compare_with_torch, torch)


class OffByOnePercent(ts.autograd.Function):
    """The identity, whose backward is 1% too large at the first element."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        g = g.copy()
        g.flat[0] *= 1.01
        return g


# ---- compare_with_torch -------------------------------------------------------------------------
def test_compare_with_torch_catches_a_wrong_gradient_and_a_wrong_value():
    class Wrong(ts.autograd.Function):  # forward right, backward 1% off at one element
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            out = 2 * x * g
            out[1] *= 1.01
            return out

    x = np.array([0.5, -1.5, 2.0])
    compare_with_torch(lambda m, a: a * a, None, [x])  # the same check passes for the real op
    with pytest.raises(AssertionError, match="gradient of input 0"):
        compare_with_torch(lambda m, a: Wrong.apply(a), lambda m, a: a * a, [x])
    with pytest.raises(AssertionError, match="forward output 0"):
        compare_with_torch(lambda m, a: a * 1.000001, lambda m, a: a, [x])
    with pytest.raises(AssertionError, match="dtype"):
        compare_with_torch(lambda m, a: a.float(), lambda m, a: a, [x])


def test_compare_with_torch_turns_warnings_into_errors_and_skips_frozen_inputs():
    class Warns(ts.autograd.Function):  # a warning that would only be printed (the engine itself
        @staticmethod                   # silences numpy's floating-point ones: see test_hostile)
        def forward(ctx, x):
            warnings.warn("something is off", RuntimeWarning)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeWarning, match="something is off"):
        compare_with_torch(lambda m, a: Warns.apply(a), lambda m, a: a, [np.array([1.0, 2.0])])
    ts_out, _ = compare_with_torch(lambda m, a, b: a * b, None, [np.ones(3), np.full(3, 2.0)],
                                   requires_grad=[False, True])
    assert ts_out[0].requires_grad


# ---- compare_module_with_torch ------------------------------------------------------------------
class WrongWeightGrad(ts.nn.Linear):
    def forward(self, x):
        return ts.nn.functional.linear(x, OffByOnePercent.apply(self.weight), self.bias)


class Renamed(ts.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.w = ts.nn.Parameter(ts.zeros(n_out, n_in))
        self.bias = ts.nn.Parameter(ts.zeros(n_out))


def _x():
    return np.random.default_rng(0).standard_normal((2, 3))


def test_compare_module_with_torch_passes_a_right_module_and_returns_both():
    ours, theirs, out, ref = compare_module_with_torch(lambda nn: nn.Linear(3, 2), [_x()])
    assert isinstance(ours, ts.nn.Linear) and isinstance(theirs, torch.nn.Linear)
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    assert len(out) == len(ref) == 1 and ours.weight.grad is not None


@pytest.mark.parametrize("ours, words", [
    (lambda: WrongWeightGrad(3, 2), "gradient of parameter weight"),
    (lambda: Renamed(3, 2), r"parameter names differ: tinyseq \['w', 'bias'\]"),
])
def test_compare_module_with_torch_finds_a_wrong_parameter_gradient_or_name(ours, words):
    def make(nn):
        return torch.nn.Linear(3, 2) if nn is torch.nn else ours()

    with pytest.raises(AssertionError, match=words):
        compare_module_with_torch(make, [_x()])


def test_compare_module_with_torch_finds_a_wrong_input_gradient_and_a_wrong_output():
    def wrong_input_grad(m, layer, x):
        return layer(OffByOnePercent.apply(x))

    with pytest.raises(AssertionError, match="gradient of input 0"):
        compare_module_with_torch(lambda nn: nn.Linear(3, 2), [_x()], forward=wrong_input_grad,
                                  torch_forward=lambda m, layer, x: layer(x))
    with pytest.raises(AssertionError, match="forward output 0"):
        compare_module_with_torch(lambda nn: nn.Tanh(), [_x()],
                                  forward=lambda m, layer, x: layer(x) * 1.0001,
                                  torch_forward=lambda m, layer, x: layer(x))


def test_compare_module_with_torch_compares_every_tensor_of_a_nested_state():
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((4, 2, 3)), rng.standard_normal((1, 2, 5)), rng.standard_normal(
        (1, 2, 5))
    _, _, out, _ = compare_module_with_torch(lambda nn: nn.LSTM(3, 5), [x, (h, c)])
    assert [o.shape for o in out] == [(4, 2, 5), (1, 2, 5), (1, 2, 5)]  # out, (h, c)

    def without_c0_grad(m, layer, x, state):
        return layer(x, (state[0], state[1].detach()))

    with pytest.raises(AssertionError, match="input 1.1: torch has a gradient, tinyseq has none"):
        compare_module_with_torch(lambda nn: nn.LSTM(3, 5), [x, (h, c)], forward=without_c0_grad,
                                  torch_forward=lambda m, layer, *inputs: layer(*inputs))


# ---- compare_optimizer_with_torch ---------------------------------------------------------------
def _data(steps=4):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 2)).astype(np.float32), np.ones(2, np.float32)]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in init]
             for _ in range(steps)]
    return init, grads


class DriftsAtStep3(ts.optim.SGD):
    steps = 0

    def step(self, closure=None):
        super().step(closure)
        self.steps += 1
        if self.steps == 3:
            self.param_groups[0]["params"][1].numpy()[0] += 1e-3


class ForgetsItsMomentum(ts.optim.SGD):
    def step(self, closure=None):
        super().step(closure)
        for state in self.state.values():
            state["momentum_buffer"] *= 0.5  # the next step uses half of it: see state, not params


def test_compare_optimizer_with_torch_passes_the_same_optimizer():
    opt = compare_optimizer_with_torch(lambda lib, ps: lib.Adam(ps, lr=0.1), *_data())
    assert isinstance(opt, ts.optim.Adam) and opt.state_dict()["state"][0]["step"] == 4


@pytest.mark.parametrize("wrong, words", [
    (lambda ps: ts.optim.SGD(ps, lr=0.1001), r"SGD before the first step: group 0 option 'lr'"),
    (lambda ps: DriftsAtStep3(ps, lr=0.1), r"DriftsAtStep3 after step 3: parameter 1"),
    (lambda ps: ForgetsItsMomentum(ps, lr=0.1, momentum=0.9),
     r"ForgetsItsMomentum after step 1: state\[0\]\['momentum_buffer'\]"),
])
def test_compare_optimizer_with_torch_finds_a_wrong_option_step_or_state(wrong, words):
    def make(lib, params):
        if lib is torch.optim:
            return lib.SGD(params, lr=0.1, momentum=0.9 if "Momentum" in words else 0)
        return wrong(params)

    with pytest.raises(AssertionError, match=words):
        compare_optimizer_with_torch(make, *_data())


def test_compare_optimizer_with_torch_finds_a_wrong_schedule():
    def schedule(lib, opt):
        return lib.StepLR(opt, step_size=2 if lib is torch.optim.lr_scheduler else 3)

    with pytest.raises(AssertionError, match=r"SGD after step 2: get_last_lr\(\)"):
        compare_optimizer_with_torch(lambda lib, ps: lib.SGD(ps, lr=0.1), *_data(),
                                     schedule=schedule)
