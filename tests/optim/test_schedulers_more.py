"""The learning-rate schedulers against PyTorch's, step by step (``compare_optimizer_with_torch``:
the parameters, every group's options, ``get_last_lr()`` and the optimiser's state after every
step), their checkpoints (``state_dict``/``load_state_dict`` resume exactly), and their refusals."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import optim

torch = pytest.importorskip("torch", reason="PyTorch is the reference for the schedulers")
from tests.torch_compare import compare_optimizer_with_torch  # noqa: E402


class Halving:
    """A callable object as ``lr_lambda``: its attributes go into the scheduler's state_dict."""

    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** epoch


SCHEDULES = [
    ("LambdaLR", lambda lib, opt: lib.LambdaLR(opt, lambda e: 1 / (1 + e))),
    ("LambdaLR_per_group", lambda lib, opt: lib.LambdaLR(opt, [lambda e: 0.9 ** e,
                                                               lambda e: 1 + e % 3])),
    ("MultiplicativeLR", lambda lib, opt: lib.MultiplicativeLR(opt, lambda e: 0.8 + e / 100)),
    ("ExponentialLR", lambda lib, opt: lib.ExponentialLR(opt, gamma=0.7)),
    ("MultiStepLR", lambda lib, opt: lib.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.5)),
    ("MultiStepLR_unsorted", lambda lib, opt: lib.MultiStepLR(opt, [7, 3])),
    ("CosineAnnealingLR", lambda lib, opt: lib.CosineAnnealingLR(opt, T_max=5, eta_min=0.001)),
    ("StepLR", lambda lib, opt: lib.StepLR(opt, 4, gamma=0.3)),
    ("OneCycleLR", lambda lib, opt: lib.OneCycleLR(opt, max_lr=[1.0, 0.4], total_steps=13)),
    ("OneCycleLR_linear_three_phase", lambda lib, opt: lib.OneCycleLR(
        opt, max_lr=0.5, epochs=3, steps_per_epoch=4, pct_start=0.25, anneal_strategy="linear",
        three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    ("OneCycleLR_no_momentum", lambda lib, opt: lib.OneCycleLR(opt, 2.0, 12,
                                                               cycle_momentum=False)),
]


def _data(steps=12):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(a.shape) for a in init] for _ in range(steps)]
    return init, grads


@pytest.mark.parametrize("name, schedule", SCHEDULES, ids=[s[0] for s in SCHEDULES])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_learning_rates_match_torch_at_every_step(name, schedule, optimizer):
    def make(lib, params):
        groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.3}]
        return (lib.SGD(groups, lr=0.1, momentum=0.9) if optimizer == "SGD"
                else lib.Adam(groups, lr=0.1))

    compare_optimizer_with_torch(make, *_data(), schedule=schedule)


def test_a_wrong_schedule_fails_the_comparison():
    def schedule(lib, opt):
        return lib.ExponentialLR(opt, 0.7 if lib is optim.lr_scheduler else 0.71)

    with pytest.raises(AssertionError, match="get_last_lr"):
        compare_optimizer_with_torch(lambda lib, ps: lib.SGD(ps, lr=0.1), *_data(3),
                                     schedule=schedule)


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=1),
    dict(patience=0, threshold=0.1, threshold_mode="abs", cooldown=2, min_lr=[0.02, 0.0]),
    dict(patience=2, threshold=0.05, min_lr=0.015, eps=1e-3),
]


@pytest.mark.parametrize("options", PLATEAU, ids=str)
def test_reduce_on_plateau_matches_torch(options):
    metrics = [1.0, 0.9, 0.95, 0.91, 0.9, 0.9, 0.85, 0.86, 0.87, 0.88, 0.84, 0.99, 1.2, 0.5] * 2
    ours = optim.SGD([{"params": [ts.zeros(1, requires_grad=True)]},
                      {"params": [ts.zeros(1, requires_grad=True)], "lr": 0.05}], lr=0.1)
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                              {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.05}],
                             lr=0.1)
    mine = optim.lr_scheduler.ReduceLROnPlateau(ours, **options)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **options)
    for k, value in enumerate(metrics):
        mine.step(ts.tensor(value, dtype=ts.float64) if k % 2 else value)
        ref.step(value)
        assert mine.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12), k
        assert (mine.num_bad_epochs, mine.cooldown_counter, mine.best) == (
            ref.num_bad_epochs, ref.cooldown_counter, ref.best)
    assert mine.get_last_lr() != [0.1, 0.05]  # the run did reduce


@pytest.mark.parametrize("name, schedule", SCHEDULES + [
    ("Plateau", lambda lib, opt: lib.ReduceLROnPlateau(opt, patience=1)),
    ("LambdaLR_object", lambda lib, opt: lib.LambdaLR(opt, Halving()))],
    ids=[s[0] for s in SCHEDULES] + ["Plateau", "LambdaLR_object"])
def test_a_checkpoint_resumes_the_schedule_exactly(name, schedule):
    """Stop after 5 steps, save the optimiser's and the scheduler's state_dicts, build both anew,
    load them: the following steps set the same learning rates as the run that went on."""
    def run(opt, sched, k):
        for i in range(k):
            opt.step()
            sched.step(1.0 + (i % 3 == 0)) if name == "Plateau" else sched.step()
        return sched.get_last_lr()

    def build():
        p = ts.zeros(2, requires_grad=True)
        opt = optim.SGD([{"params": [p]}, {"params": [ts.ones(1, requires_grad=True)]}], lr=0.2,
                        momentum=0.5)
        return opt, schedule(optim.lr_scheduler, opt)

    opt, sched = build()
    run(opt, sched, 5)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    went_on = [run(opt, sched, 1) for _ in range(4)]
    opt2, sched2 = build()
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert [run(opt2, sched2, 1) for _ in range(4)] == went_on
    if name == "LambdaLR_object":
        assert saved_sched["lr_lambdas"] == [{"rate": 0.5}, {"rate": 0.5}]


def test_state_dict_keeps_the_functions_out_and_the_rates_in():
    opt = optim.SGD([ts.zeros(1, requires_grad=True)], lr=1.0)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e)
    sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None] and state["last_epoch"] == 1
    assert state["base_lrs"] == [1.0] and sched.get_last_lr() == [0.5]


def test_resuming_with_last_epoch_needs_initial_lr_as_torch():
    for lib in (optim, torch.optim):
        p = (ts if lib is optim else torch).zeros(1, requires_grad=True)
        with pytest.raises(KeyError, match="initial_lr"):
            lib.lr_scheduler.ExponentialLR(lib.SGD([p], lr=0.1), 0.5, last_epoch=3)
    opt = optim.SGD([ts.zeros(1, requires_grad=True)], lr=0.1)
    opt.param_groups[0]["initial_lr"] = 1.0
    assert optim.lr_scheduler.ExponentialLR(opt, 0.5, last_epoch=2).get_last_lr() == [0.125]


def test_step_with_an_epoch_is_deprecated_as_in_torch_and_jumps_there():
    opt = optim.SGD([ts.zeros(1, requires_grad=True)], lr=1.0)
    sched = optim.lr_scheduler.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(3)
    assert sched.get_last_lr() == [0.125]


def _steps(sched, n):
    for _ in range(n):
        sched.step()


REFUSALS = [
    ("LambdaLR_count", lambda lib, opt: lib.LambdaLR(opt, [lambda e: 1, lambda e: 1]),
     ValueError),
    ("Multiplicative_not_callable", lambda lib, opt: lib.MultiplicativeLR(opt, 0.5), TypeError),
    ("Plateau_factor", lambda lib, opt: lib.ReduceLROnPlateau(opt, factor=1.0), ValueError),
    ("Plateau_mode", lambda lib, opt: lib.ReduceLROnPlateau(opt, mode="up"), ValueError),
    ("Plateau_min_lrs", lambda lib, opt: lib.ReduceLROnPlateau(opt, min_lr=[0, 0]), ValueError),
    ("OneCycle_no_steps", lambda lib, opt: lib.OneCycleLR(opt, 1.0), ValueError),
    ("OneCycle_strategy", lambda lib, opt: lib.OneCycleLR(opt, 1.0, 5, anneal_strategy="exp"),
     ValueError),
    ("OneCycle_too_many_steps", lambda lib, opt: _steps(lib.OneCycleLR(opt, 1.0, 2), 3),
     ValueError),
]


@pytest.mark.parametrize("name, make, error", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_bad_arguments_are_refused_as_torch_in_one_line(name, make, error):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch warns of a scheduler stepped before the optimiser)
        with pytest.raises(error):
            make(torch.optim.lr_scheduler, torch.optim.SGD([torch.zeros(1, requires_grad=True)],
                                                           lr=0.1, momentum=0.9))
    with pytest.raises(error) as info:
        make(optim.lr_scheduler, optim.SGD([ts.zeros(1, requires_grad=True)], lr=0.1,
                                           momentum=0.9))
    assert "\n" not in str(info.value)
