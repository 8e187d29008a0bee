"""The keyword arguments PyTorch programs pass to the optimisers (issue 15): amsgrad, maximize,
decoupled weight decay and the implementation switches, step by step against torch."""
import inspect

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import compare_optimizer_with_torch, torch

CASES = [
    ("Adam", dict(amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(foreach=False, fused=None, capturable=False, differentiable=False)),
    ("Adam", dict(fused=True)),
    ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.2, maximize=True, foreach=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("SGD", dict()),  # torch's default lr, 1e-3
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, maximize=True, weight_decay=0.1)),
    ("RMSprop", dict(centered=True, foreach=False)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, maximize=True, fused=None)),
]


def _data(steps=6):
    """Two parameters and their gradients; the second has none at step 3 (it must not move)."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in [(3, 4), (5,)]]
    grads = [[rng.standard_normal(a.shape) for a in init] for _ in range(steps)]
    grads[2][1] = None
    return init, grads


@pytest.mark.parametrize("name, options", CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}"
                              for n, o in CASES])
def test_options_match_torch_step_by_step(name, options):
    init, grads = _data()
    opt = compare_optimizer_with_torch(lambda optim, ps: getattr(optim, name)(ps, **options),
                                       init, grads)
    group = opt.param_groups[0]
    assert all(group.get(k, False) == v for k, v in options.items()  # (switches: only when on)
               if k not in ("foreach", "fused", "capturable", "differentiable"))


def test_amsgrad_keeps_the_largest_second_moment():
    p = ts.tensor([1.0], requires_grad=True)
    opt = ts.optim.Adam([p], lr=0.1, betas=(0.9, 0.5), amsgrad=True)
    largest = 0.0
    for g in (3.0, 0.1, 0.1):  # exp_avg_sq shrinks after the first step; its max does not
        p.grad = ts.tensor([g])
        opt.step()
        state = opt.state[p]
        largest = max(largest, state["exp_avg_sq"][0])
        assert state["max_exp_avg_sq"][0] == pytest.approx(largest)
    assert state["exp_avg_sq"][0] < state["max_exp_avg_sq"][0]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_signatures_are_torchs(name):
    ours = inspect.signature(getattr(ts.optim, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert list(ours) == list(theirs)
    for key, p in theirs.items():
        assert ours[key].kind == p.kind, key
        if p.default is not inspect.Parameter.empty:
            assert ours[key].default == p.default, key


def test_maximize_ascends():
    p = ts.tensor([1.0, -2.0], requires_grad=True)
    opt = ts.optim.SGD([p], lr=0.5, maximize=True)
    p.grad = ts.tensor([1.0, 1.0])
    opt.step()
    assert p.tolist() == [1.5, -1.5]


@pytest.mark.parametrize("make, error, match", [
    (lambda ps: ts.optim.Adam(ps, capturable=True), AssertionError,
     r"Adam: capturable=True is for CUDA graphs .* leave it False"),
    (lambda ps: ts.optim.RMSprop(ps, capturable=True), AssertionError, r"RMSprop: capturable"),
    (lambda ps: ts.optim.SGD(ps, differentiable=True), RuntimeError,
     r"SGD: differentiable=True \(differentiating through the step\) is not supported"),
    (lambda ps: ts.optim.AdamW(ps, foreach=True, fused=True), RuntimeError,
     r"AdamW: `fused` and `foreach` cannot be `True` together"),
    (lambda ps: ts.optim.Adagrad([{"params": ps, "differentiable": True}]), RuntimeError,
     r"Adagrad: differentiable=True"),
])
def test_what_tinyseq_lacks_is_refused_in_one_line(make, error, match):
    with pytest.raises(error, match=match):
        make([ts.zeros(2, requires_grad=True)])
