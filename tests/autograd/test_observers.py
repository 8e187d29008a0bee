"""Observers: what the engine tells a tool that watches the graph, and when."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.observers import Observer, observe, observers


class Log(Observer):
    def __init__(self):
        self.events = []

    def recorded(self, node, args, flags, outputs):
        tensors = [f for a, f in zip(args, flags) if isinstance(a, ts.Tensor)]  # (not dim=...)
        self.events.append(("recorded", node.name, tuple(tensors)))

    def named(self, tensor, name):
        self.events.append(("named", name))

    def walking(self, roots):
        self.events.append(("walking", [node.name for node in roots]))
        return lambda node, grads: self.events.append(
            ("complete", node.name, [None if g is None else g.tolist() for g in grads]))


@pytest.fixture
def log():
    watcher = observe(Log())
    yield watcher
    observers.remove(watcher)


def test_an_observer_sees_records_names_and_complete_gradients_after_hooks(log):
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = (x * ts.tensor([3.0, 4.0])).named("y")
    y.register_hook(lambda g: g * 10)
    with ts.no_grad():
        x * 2  # nothing recorded: no event
    y.sum().backward()
    assert log.events == [
        ("recorded", "mul", (True, False)),
        ("named", "y"),
        ("recorded", "sum", (True,)),
        ("walking", ["sum"]),
        ("complete", "sum", [1.0]),
        ("complete", "mul", [[10.0, 10.0]]),  # after the hook
        ("complete", "accumulate_grad", [[30.0, 40.0]]),
    ]
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 40.0])


def test_grad_tells_observers_too_and_observe_refuses_what_is_not_an_observer(log):
    x = ts.tensor([2.0], requires_grad=True)
    (g,) = ts.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [4.0]
    assert ("walking", ["sum"]) in log.events
    with pytest.raises(TypeError, match="observe: expected an Observer, got function"):
        observe(lambda node: None)


def test_the_only_observer_is_the_drawings_recorder_on_from_import():
    assert [type(o).__module__ for o in observers] == ["tinyseq.autograd.record"]


def test_an_observer_sees_the_outputs_each_op_made():
    seen = []

    class Outputs(Observer):
        def recorded(self, node, args, flags, outputs):
            seen.append((node.name, [t.tolist() for t in outputs]))

    watcher = observe(Outputs())
    try:
        x = ts.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        a, b = (x * 2).chunk(2)
    finally:
        observers.remove(watcher)
    assert seen == [("mul", [[2.0, 4.0, 6.0, 8.0]]), ("split", [[2.0, 4.0], [6.0, 8.0]])]
    assert a.tolist() == [2.0, 4.0] and b.tolist() == [6.0, 8.0]
