"""Optimisers and schedulers: PyTorch's steps, checkpoints that resume exactly, clear errors.

The first section needs no PyTorch; the comparisons take the ``compare_optimizer_with_torch``
fixture, which skips them when PyTorch is not installed.
"""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import optim
from tinyseq.optim.lr_scheduler import CosineAnnealingLR

SHAPES = [(3, 4), (4,)]
STEPS = 5

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.3)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
]
IDS = [f"{name}-{'-'.join(map(str, opts)) or 'defaults'}" for name, opts in CASES]
ONE_EACH = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(weight_decay=0.1)),
            ("AdamW", dict()), ("Adagrad", dict(lr_decay=0.1)),
            ("RMSprop", dict(momentum=0.5, centered=True))]


def make_data(dtype=np.float32, steps=STEPS):
    """Initial values and per-step gradients; parameter 1 has no gradient at step 2."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    grads[2][1] = None
    return init, grads


def ts_params(init):
    return [ts.tensor(a.copy(), requires_grad=True, dtype=a.dtype) for a in init]


def ts_step(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else ts.tensor(g.copy(), dtype=g.dtype)
    opt.step()


def run_ts(name, opts, init, grads):
    """tinyseq's parameter values after each step."""
    params = ts_params(init)
    opt = getattr(optim, name)(params, **opts)
    history = []
    for step_grads in grads:
        ts_step(opt, params, step_grads)
        history.append([p.numpy().copy() for p in params])
    return history


# ---- without PyTorch ------------------------------------------------------------------------
@pytest.mark.parametrize("name, opts", ONE_EACH)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_keeps_dtypes_and_skips_params_without_grad(name, opts, dtype):
    init, grads = make_data(dtype)
    params = ts_params(init)
    opt = getattr(optim, name)(params, **opts)
    ts_step(opt, params, [grads[0][0], None])
    assert np.array_equal(params[1].numpy(), init[1])  # no grad: untouched, and no state
    assert not np.array_equal(params[0].numpy(), init[0])
    assert params[1] not in opt.state
    ts_step(opt, params, grads[1])
    for p in params:
        assert p.numpy().dtype == dtype
        assert all(v.dtype == dtype for v in opt.state[p].values() if isinstance(v, np.ndarray))


def test_step_bumps_the_version_and_leaves_grad_alone():
    p = ts.tensor([1.0, 2.0], requires_grad=True)
    saved = (p * p).sum()  # the product saved p for its backward
    p.grad = ts.tensor([0.5, 0.5])
    optim.SGD([p], lr=1.0, weight_decay=0.1).step()
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation .*\(version 1, "
                                           r"expected 0\)"):
        saved.backward()
    assert p.grad.tolist() == [0.5, 0.5]


def test_step_with_closure_returns_the_loss():
    p = ts.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ts.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert p.tolist() == [1.5]


def test_zero_grad():
    params = ts_params(make_data()[0])
    opt = optim.Adam(params)
    for p in params:
        p.grad = ts.ones(*p.shape)
    opt.zero_grad(set_to_none=False)
    for p in params:
        assert p.grad.shape == p.shape and not p.grad.numpy().any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.zero_grad(set_to_none=False)  # grads that are None stay None
    assert all(p.grad is None for p in params)


def test_param_groups_take_their_own_options():
    a, b = ts_params(make_data()[0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    assert opt.param_groups[1]["params"] == [b]


def test_state_dict_numbers_params_and_copies_state():
    params = ts_params(make_data()[0])
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}])
    ts_step(opt, params, make_data()[1][0])
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sorted(sd["state"]) == [0, 1]
    assert sd["state"][0]["step"] == 1
    assert sd["state"][0]["exp_avg"] is not opt.state[params[0]]["exp_avg"]


@pytest.mark.parametrize("name, opts", ONE_EACH)
def test_state_dict_round_trip_resumes_exactly(name, opts):
    init, grads = make_data()
    expected = run_ts(name, opts, init, grads)[-1]
    params = ts_params(init)
    opt = getattr(optim, name)(params, **opts)
    for step_grads in grads[:3]:
        ts_step(opt, params, step_grads)
    sd, saved = opt.state_dict(), [p.numpy().copy() for p in params]
    ts_step(opt, params, grads[0])  # must not change the saved state
    resumed = ts_params(saved)
    new = getattr(optim, name)(resumed, lr=123.0)  # options come back from the state dict
    new.load_state_dict(sd)
    for step_grads in grads[3:]:
        ts_step(new, resumed, step_grads)
    for r, e in zip(resumed, expected):
        np.testing.assert_array_equal(r.numpy(), e)


def test_load_state_dict_rejects_a_different_layout():
    a, b = ts_params(make_data()[0])
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="group of 2 parameters where the optimizer's has 1"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 parameter groups, but the optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad = ts.ones(3, 4)
    opt.step()
    with pytest.raises(ValueError, match=r"shape \(3, 4\) for a parameter of shape \(4,\)"):
        optim.SGD([b, a], lr=0.1, momentum=0.9).load_state_dict(opt.state_dict())


FINITE = "it must be a finite number >= 0"


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda p: optim.SGD(p, lr=-1.0), "SGD: invalid learning rate -1.0; " + FINITE),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "SGD: invalid momentum -0.5; " + FINITE),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "SGD: invalid weight_decay -1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "SGD: nesterov=True needs momentum > 0"),
    (lambda p: optim.SGD([{"params": p, "lr": -2.0}], lr=0.1), "SGD: invalid learning rate -2.0"),
    (lambda p: optim.Adam(p, lr=-0.1), "Adam: invalid learning rate -0.1; " + FINITE),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), r"Adam: invalid betas\[0\] 1.0; it must be in \["),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), r"AdamW: invalid betas\[1\] -0.1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Adam: invalid eps -1e-08; " + FINITE),
    (lambda p: optim.Adagrad(p, eps=-1.0), "Adagrad: invalid eps -1.0"),
    (lambda p: optim.RMSprop(p, alpha=-0.9), "RMSprop: invalid alpha -0.9"),
    (lambda p: optim.RMSprop(p, momentum=-1), "RMSprop: invalid momentum -1"),
])
def test_invalid_options(make, message):
    with pytest.raises(ValueError, match=message):
        make(ts_params(make_data()[0]))


def test_invalid_params():
    p = ts.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="SGD: parameter 1 .* does not require grad"):
        optim.SGD([p, ts.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="parameter 0 is not a leaf tensor"):
        optim.Adam([p * 2])
    with pytest.raises(TypeError, match="Adam can only optimize Tensors, but parameter 1 is a li"):
        optim.Adam([p, [1.0]])
    with pytest.raises(ValueError, match="parameter 0 appears more than once"):
        optim.Adam([{"params": [p]}, {"params": [p]}])


def test_scheduler_state_dict_resumes():
    opt = optim.SGD(ts_params(make_data()[0]), lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=6)
    for _ in range(3):
        sched.step()
    sd, lrs = sched.state_dict(), sched.get_last_lr()
    opt2 = optim.SGD(ts_params(make_data()[0]), lr=0.1)
    sched2 = CosineAnnealingLR(opt2, T_max=6)
    sched2.load_state_dict(sd)
    sched.step()
    sched2.step()
    assert sched2.last_epoch == 4 and sched2.get_last_lr() == sched.get_last_lr() != lrs


# ---- against PyTorch ------------------------------------------------------------------------
@pytest.fixture
def compare_optimizer_with_torch():
    pytest.importorskip("torch", reason="PyTorch is the reference for the optimisers")
    from tests.torch_compare import compare_optimizer_with_torch
    return compare_optimizer_with_torch


def make_optimizer(name, opts):
    """The optimiser ``name`` with ``opts``, from ``ts.optim`` or ``torch.optim``."""
    return lambda lib, params: getattr(lib, name)(params, **opts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, opts", CASES, ids=IDS)
def test_matches_torch_after_every_step(compare_optimizer_with_torch, name, opts, dtype):
    compare_optimizer_with_torch(make_optimizer(name, opts), *make_data(dtype))


@pytest.mark.parametrize("name, opts", ONE_EACH)
def test_param_groups_match_torch(compare_optimizer_with_torch, name, opts):
    def make(lib, params):
        groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.03, "weight_decay": 0.05}]
        return getattr(lib, name)(groups, **opts)

    compare_optimizer_with_torch(make, *make_data())


@pytest.mark.parametrize("schedule", [
    lambda lib, opt: lib.StepLR(opt, step_size=3),
    lambda lib, opt: lib.StepLR(opt, step_size=2, gamma=0.5),
    lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=10),
    lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=4, eta_min=0.01),
], ids=["StepLR", "StepLR-gamma", "Cosine", "Cosine-restart-eta_min"])
@pytest.mark.parametrize("name, opts", [("SGD", dict(lr=0.1)), ("Adam", dict(lr=0.1))])
def test_scheduler_lrs_match_torch(compare_optimizer_with_torch, schedule, name, opts):
    init, grads = make_data(steps=10)

    def make(lib, params):
        return getattr(lib, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}],
                                  **opts)

    compare_optimizer_with_torch(make, init, grads, schedule=schedule)


@pytest.mark.parametrize("make", [lambda ps: ts.optim.SGD(ps, lr=1e38, momentum=0.9),
                                  lambda ps: ts.optim.Adam(ps, lr=1e38),
                                  lambda ps: ts.optim.RMSprop(ps, lr=1e38)])
def test_a_diverging_step_warns_nothing_and_keeps_inf_and_nan(make):
    """torch is silent when a diverging run pushes weights to inf and NaN; so is tinyseq."""
    p = ts.tensor([3e38, -3e38, 1.0], requires_grad=True)
    p.grad = ts.tensor([float("inf"), -3e38, float("nan")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make([p]).step()
    assert np.isnan(p.numpy()[2]) and not np.isfinite(p.numpy()[0])
