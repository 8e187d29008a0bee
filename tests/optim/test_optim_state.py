"""An optimiser's state_dict as torch 2.13's (issue 15): the same keys, value types and key order;
torch's state_dict loads into tinyseq and tinyseq's into torch, and the steps after either match
torch's; an older tinyseq's state_dict (numpy arrays, an int step) still loads; bad state is one
error line, and nothing changes."""
import copy

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.optim.state import RENAMED

try:
    import torch
except ImportError:  # the comparisons skip; the rest runs
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference for state_dict")

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.05, betas=(0.8, 0.9))),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in opts.items())}" for name, opts in CASES]
SHAPES = [(3, 4), (4,), ()]  # a 0-d parameter too: its state arrays are 0-d, its step too


def _data(dtype, steps=5):
    """Initial values and per-step gradients; parameter 1 has none at step 1 (no state then)."""
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    grads[0][1] = None
    return init, grads


def _params(lib, arrays):
    """Leaves of the arrays' dtypes (``ts.tensor`` makes a float64 array float32)."""
    return [lib.from_numpy(np.array(a)).requires_grad_() for a in arrays]


def _run(lib, opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else lib.from_numpy(np.array(g))
        opt.step()


def _values(params):
    return [p.detach().numpy().copy() for p in params]


def _to_torch(sd):
    """A tinyseq state_dict with torch tensors, as a program moving it to torch writes it."""
    return {"state": {i: {k: torch.from_numpy(np.array(v)) for k, v in s.items()}
                      for i, s in sd["state"].items()},
            "param_groups": copy.deepcopy(sd["param_groups"])}


def _old_format(sd, opt):
    """``sd`` as tinyseq wrote it before: numpy arrays, an int step, Adagrad's ``state_sum``, and
    groups holding the switches only when on (no foreach/fused/capturable/differentiable)."""
    old_names = {new: old for old, new in RENAMED.items()}
    state = {i: {old_names.get(k, k): int(v.item()) if k == "step" else v.numpy().copy()
                 for k, v in s.items()} for i, s in sd["state"].items()}
    if isinstance(opt, ts.optim.Adagrad):  # state appeared at the first step, not before
        state = {i: s for i, s in state.items() if s["step"]}
    later = ("foreach", "fused", "capturable", "differentiable")
    groups = [{k: v for k, v in g.items() if k not in later and v is not False}
              for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


# ---- the format, against torch --------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name, opts", CASES, ids=IDS)
def test_state_dict_has_torchs_keys_types_order_and_values(name, opts):
    init, grads = _data(np.float32)
    ours, theirs = _params(ts, init), _params(torch, init)
    opt, ref = getattr(ts.optim, name)(ours, **opts), getattr(torch.optim, name)(theirs, **opts)
    for k in range(3):  # before any step (Adagrad's state is there already), after 1 and 2
        mine, want = opt.state_dict(), ref.state_dict()
        assert list(mine) == list(want) == ["state", "param_groups"]
        for g, h in zip(mine["param_groups"], want["param_groups"]):
            assert list(g) == list(h), f"step {k}: group keys"
            assert [type(v) for v in g.values()] == [type(v) for v in h.values()]
            assert g == h, f"step {k}: options"
        assert list(mine["state"]) == list(want["state"]), f"step {k}: which parameters"
        for i, s in want["state"].items():
            assert list(mine["state"][i]) == list(s), f"step {k}: state keys of {i}"
            for key, value in s.items():
                got = mine["state"][i][key]
                assert isinstance(got, ts.Tensor) and isinstance(value, torch.Tensor)
                assert got.numpy().dtype == value.numpy().dtype and got.shape == value.shape
                np.testing.assert_allclose(got.numpy(), value.numpy(), rtol=1e-5, atol=1e-6,
                                           err_msg=f"step {k}: state[{i}][{key!r}]")
        _run(ts, opt, ours, grads[k:k + 1])
        _run(torch, ref, theirs, grads[k:k + 1])


@needs_torch
@pytest.mark.parametrize("name, opts", CASES, ids=IDS)
def test_torchs_state_dict_loads_and_the_next_steps_are_torchs(name, opts):
    """torch steps 3 times; its state_dict (torch tensors) and weights go to a tinyseq optimiser
    built with other options; both step on: the same weights, to float64 rounding."""
    init, grads = _data(np.float64)
    theirs = _params(torch, init)
    ref = getattr(torch.optim, name)(theirs, **opts)
    _run(torch, ref, theirs, grads[:3])
    ours = _params(ts, _values(theirs))
    opt = getattr(ts.optim, name)(ours, lr=123.0)  # the options come from the state_dict
    opt.load_state_dict(ref.state_dict())
    assert opt.param_groups[0]["lr"] == opts["lr"]
    for step_grads in grads[3:]:
        _run(torch, ref, theirs, [step_grads])
        _run(ts, opt, ours, [step_grads])
        for a, b in zip(_values(ours), _values(theirs)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@needs_torch
@pytest.mark.parametrize("name, opts", CASES, ids=IDS)
def test_tinyseqs_state_dict_loads_into_torch_and_resumes_alike(name, opts):
    init, grads = _data(np.float64)
    ours = _params(ts, init)
    opt = getattr(ts.optim, name)(ours, **opts)
    _run(ts, opt, ours, grads[:3])
    theirs = _params(torch, _values(ours))
    ref = getattr(torch.optim, name)(theirs, lr=123.0)
    ref.load_state_dict(_to_torch(opt.state_dict()))
    assert ref.param_groups[0] == {**opt.param_groups[0], "params": theirs}
    _run(torch, ref, theirs, grads[3:])
    _run(ts, opt, ours, grads[3:])
    for a, b in zip(_values(ours), _values(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- without PyTorch ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, opts", CASES, ids=IDS)
@pytest.mark.parametrize("form", ["new", "old", "saved"])
def test_a_state_dict_resumes_exactly(tmp_path, name, opts, form):
    """Stopped after 3 steps and resumed from its state_dict as it is, in the format tinyseq
    wrote before, or through ``ts.save``/``ts.load``: the same weights as running on."""
    init, grads = _data(np.float32)
    straight = _params(ts, init)
    _run(ts, getattr(ts.optim, name)(straight, **opts), straight, grads)
    params = _params(ts, init)
    opt = getattr(ts.optim, name)(params, **opts)
    _run(ts, opt, params, grads[:3])
    sd = opt.state_dict()
    if form == "old":
        sd = _old_format(sd, opt)
    elif form == "saved":
        ts.save(sd, tmp_path / "opt.safetensors")
        sd = ts.load(tmp_path / "opt.safetensors")
    resumed = _params(ts, _values(params))
    again = getattr(ts.optim, name)(resumed, lr=123.0)
    again.load_state_dict(sd)
    assert again.param_groups[0] == {**opt.param_groups[0], "params": resumed}
    _run(ts, again, resumed, grads[3:])
    for a, b in zip(_values(resumed), _values(straight)):
        np.testing.assert_array_equal(a, b)


def test_the_state_dict_is_a_copy_and_the_step_a_float32_tensor():
    """torch's state_dict shares its state tensors with the optimiser; tinyseq's is a copy, so a
    state_dict taken before more steps still describes that moment."""
    p = ts.ones(2, requires_grad=True)
    opt = ts.optim.Adam([p], lr=0.1)
    p.grad = ts.ones(2)
    opt.step()
    sd = opt.state_dict()
    step, exp_avg = sd["state"][0]["step"], sd["state"][0]["exp_avg"].numpy().copy()
    assert step.shape == () and step.dtype == ts.float32 and step.item() == 1.0
    opt.step()
    assert sd["state"][0]["step"].item() == 1.0
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), exp_avg)
    assert opt.state_dict()["state"][0]["step"].item() == 2.0


def _adam_after_a_step():
    p = ts.ones(3, requires_grad=True)
    opt = ts.optim.Adam([p], lr=0.1)
    p.grad = ts.ones(3)
    opt.step()
    return opt, opt.state_dict()


def _with_state(sd, **entries):
    return {**sd, "state": {0: {**sd["state"][0], **entries}}}


BAD = {
    "step negative": (lambda sd: _with_state(sd, step=ts.tensor(-1.0)), ValueError,
                      r"Adam.load_state_dict: the step of parameter 0 is tensor\(-1\.\); it "
                      r"must be a whole number >= 0"),
    "step NaN": (lambda sd: _with_state(sd, step=np.float32("nan")), ValueError,
                 r"the step of parameter 0 is np\.float32\(nan\)"),
    "step fractional": (lambda sd: _with_state(sd, step=2.5), ValueError,
                        r"the step of parameter 0 is 2\.5"),
    "step a vector": (lambda sd: _with_state(sd, step=np.ones(2)), ValueError,
                      r"the step of parameter 0 is array"),
    "state of strings": (lambda sd: _with_state(sd, exp_avg=np.array(["a", "b", "c"])),
                         TypeError, r"state 'exp_avg' of parameter 0 is array\(\['a'.*; it "
                                    r"must be a tensor or array of numbers"),
    "state a shape off": (lambda sd: _with_state(sd, exp_avg_sq=ts.ones(3, 1)), ValueError,
                          r"Adam.load_state_dict: loaded state has shape \(3, 1\) for a "
                          r"parameter of shape \(3,\) \(state 'exp_avg_sq' of parameter 0\)"),
    "state entry missing": (lambda sd: {**sd, "state": {0: {"step": 1, "exp_avg": np.ones(3)}}},
                            ValueError, r"the state of parameter 0 has no exp_avg_sq \(it has "
                                        r"step, exp_avg\); load the state_dict of a Adam"),
    "amsgrad without its maximum": (
        lambda sd: {**sd, "param_groups": [{**sd["param_groups"][0], "amsgrad": True}]},
        ValueError, r"the state of parameter 0 has no max_exp_avg_sq"),
    "index not a number": (lambda sd: {**sd, "state": {"first": sd["state"][0]}}, TypeError,
                           r"parameter index 'first' is not a whole number"),
    "index out of range": (lambda sd: {**sd, "state": {3: sd["state"][0]}}, ValueError,
                           r"the state names parameter 3, but the parameter groups number 1"),
    "groups not a list": (lambda sd: {**sd, "param_groups": {"lr": 0.1}}, TypeError,
                          r"param_groups must be a list of dicts, each with a 'params' list"),
    "state not a dict": (lambda sd: {**sd, "state": [1, 2]}, TypeError,
                         r"state must be a dict of parameter index -> dict of state values"),
    "maximize a string": (lambda sd: {**sd, "param_groups": [{**sd["param_groups"][0],
                                                              "maximize": "yes"}]},
                          TypeError, r"Adam: maximize must be True or False, got 'yes'"),
    "foreach a number": (lambda sd: {**sd, "param_groups": [{**sd["param_groups"][0],
                                                             "foreach": 2}]},
                         TypeError, r"Adam: foreach must be None, True or False, got 2"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_state_is_one_error_line_and_changes_nothing(case):
    make, error, words = BAD[case]
    opt, sd = _adam_after_a_step()
    (p, state), = opt.state.items()
    before = copy.deepcopy(state)
    with pytest.raises(error, match=words) as e:
        opt.load_state_dict(make(sd))
    assert "\n" not in str(e.value)
    assert list(opt.state) == [p] and opt.state[p] is state and opt.param_groups[0]["lr"] == 0.1
    assert list(state) == list(before) and state["step"] == before["step"] == 1
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(state[key], before[key])


def test_state_values_take_the_parameters_dtype_and_none_is_no_buffer():
    """float32 state loads into float64 parameters as float64 (torch casts to the parameter's
    dtype too); a None buffer (torch's SGD before 2.1 wrote one) is no buffer yet."""
    p = ts.zeros(2, dtype=ts.float64, requires_grad=True)
    opt = ts.optim.SGD([p], lr=1.0, momentum=0.5)
    opt.load_state_dict({"state": {0: {"momentum_buffer": np.ones(2, np.float32)}},
                         "param_groups": [{"lr": 1.0, "params": [0]}]})
    assert opt.state[p]["momentum_buffer"].dtype == np.float64
    p.grad = ts.ones(2, dtype=ts.float64)
    opt.step()
    assert p.tolist() == [-1.5, -1.5]  # buf = 0.5 * 1 + 1
    opt.load_state_dict({"state": {0: {"momentum_buffer": None}},
                         "param_groups": [{"lr": 1.0, "params": [0]}]})
    assert opt.state[p] == {}
    opt.step()
    assert p.tolist() == [-2.5, -2.5]  # a fresh buffer: the gradient itself
