"""The rest of ``nn.Module``'s and the containers' API that PyTorch programs use, each against
PyTorch: ``apply``'s order, ``add_module``/``register_parameter``/``get_submodule``,
``Sequential(OrderedDict)``, slicing and editing containers, what ``load_state_dict`` casts."""
import io
from collections import OrderedDict

import numpy as np
import pytest

import tinyseq as ts

torch = pytest.importorskip("torch", reason="compared with PyTorch")


def both(build):
    return build(ts), build(torch)


def test_apply_visits_children_first_in_order_as_torch():
    def visits(m):
        model = m.nn.Sequential(m.nn.Sequential(m.nn.Linear(1, 1), m.nn.ReLU()), m.nn.Tanh())
        seen = []
        model.apply(lambda module: seen.append(type(module).__name__))
        return seen

    ours, theirs = both(visits)
    assert ours == theirs == ["Linear", "ReLU", "Sequential", "Tanh", "Sequential"]


def test_modules_built_by_name_as_torch():
    def build(m):
        class Stack(m.nn.Module):
            def __init__(self):
                super().__init__()
                for i in range(2):
                    self.add_module(f"layer{i}", m.nn.Linear(2, 2))
                self.register_parameter("bias", None)
                self.register_parameter("scale", m.nn.Parameter(m.ones(1)))

        model = Stack()
        layer1 = model.get_submodule("layer1")
        return (list(model.state_dict()), model.bias, tuple(layer1.weight.shape),
                tuple(model.get_parameter("layer0.bias").shape), model.get_submodule("") is model)

    ours, theirs = both(build)
    assert ours == theirs


def test_containers_slice_and_edit_as_torch():
    def build(m):
        nn = m.nn
        seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU()),
                                         ("out", nn.Linear(2, 1))]))
        head = seq[:-1]
        layers = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
        layers.insert(1, nn.Identity())
        del layers[0]
        layers += [nn.ReLU()]
        popped = layers.pop(0)
        seq2 = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        seq2.append(nn.Tanh())
        seq2[1] = nn.Sigmoid()
        return (type(head).__name__, list(head.state_dict()), type(seq.fc).__name__,
                [type(x).__name__ for x in layers], list(layers._modules), type(popped).__name__,
                repr(seq2), type(layers[1:]).__name__)

    ours, theirs = both(build)
    assert ours == theirs


def test_assigning_a_module_over_a_parameter_is_refused_as_in_torch():
    for m in (ts, torch):
        model = m.nn.Module()
        model.x = m.nn.Parameter(m.ones(1))
        with pytest.raises(TypeError, match="cannot assign"):
            model.x = m.nn.Linear(1, 1)


def test_load_state_dict_casts_as_copy_does_and_takes_torch_tensors_with_grad():
    ours, theirs = ts.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    state = ours.state_dict()
    state["num_batches_tracked"] = ts.tensor(3.0)  # a float into the int64 buffer: truncated
    ours.load_state_dict(state)
    assert ours.num_batches_tracked.item() == 3 and ours.num_batches_tracked.dtype == ts.int64
    lin = ts.nn.Linear(3, 2)
    source = torch.nn.Linear(3, 2)
    lin.load_state_dict(dict(source.named_parameters()))  # (they require grad in torch)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), source.weight.detach().numpy())
    assert theirs.num_batches_tracked.dtype == torch.int64
    with pytest.raises(ts.nn.DTypeError, match="weight"):
        lin.load_state_dict({"weight": np.array([["a"] * 3] * 2), "bias": np.zeros(2)})


def test_half_and_multistep_schedules_resume_from_a_file():
    assert ts.nn.Linear(2, 2).half().weight.dtype == ts.float16
    w = ts.zeros(2, requires_grad=True)
    opt = ts.optim.SGD([w], lr=0.1)
    sched = ts.optim.lr_scheduler.MultiStepLR(opt, [2, 6], 0.1)
    buffer = io.BytesIO()
    ts.save({"sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    again = ts.optim.lr_scheduler.MultiStepLR(opt, [2, 6], 0.1)
    again.load_state_dict(ts.load(buffer)["sched"])
    rates = []
    for _ in range(3):
        opt.step()
        again.step()
        rates.append(again.get_last_lr()[0])
    assert rates == pytest.approx([0.1, 0.01, 0.01])


def test_dicts_print_and_deepcopy_as_torch():
    def build(m):
        nn = m.nn
        heads = nn.ModuleDict(nn.ModuleDict({"a": nn.ReLU()}))
        params = nn.ParameterDict({"w": nn.Parameter(m.ones(1))})
        return (list(heads.keys()), tuple(params.get("w").shape), params.get("v"),
                repr(nn.Dropout(0.1)), repr(nn.LayerNorm(8, bias=False)))

    ours, theirs = both(build)
    assert ours == theirs


def test_deepcopy_of_tensors_as_torch():
    import copy

    for m in (ts, torch):
        leaf = m.ones(2, requires_grad=True)
        (leaf * 2).sum().backward()
        twin = copy.deepcopy(leaf)
        assert twin is not leaf and twin.requires_grad and twin.grad.tolist() == [2.0, 2.0]
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(leaf * 2)


def test_forward_hooks_capture_and_change_as_torch():
    def run(m):
        net = m.nn.Sequential(m.nn.Linear(2, 3), m.nn.ReLU(), m.nn.Linear(3, 1))
        seen = []
        capture = net[1].register_forward_hook(lambda mod, args, out: seen.append(tuple(out.shape)))
        zero = net[0].register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
        double = net.register_forward_hook(lambda mod, args, out: out * 2)
        hooked = net(m.ones(4, 2)).detach().numpy()
        for handle in (capture, zero, double):
            handle.remove()
        plain = net(m.ones(4, 2)).detach().numpy()
        b0, w2, b2 = (p.detach().numpy() for p in (net[0].bias, net[2].weight, net[2].bias))
        expected = 2 * (np.maximum(b0, 0) @ w2.T + b2)  # (the input zeroed, the output doubled)
        return seen, hooked, expected, plain

    for seen, hooked, expected, plain in (run(ts), run(torch)):
        assert seen == [(4, 3)]
        np.testing.assert_allclose(hooked, np.broadcast_to(expected, (4, 1)), rtol=1e-6)
        assert not np.allclose(hooked, plain)  # removed: the plain forward again
    with pytest.raises(TypeError, match="register_forward_hook: the hook must be callable"):
        ts.nn.ReLU().register_forward_hook(3)


def test_container_insert_refuses_an_index_that_is_not_an_int():
    with pytest.raises(TypeError, match="^ModuleList.insert: index must be an int, got str 'a'$"):
        ts.nn.ModuleList([ts.nn.ReLU()]).insert("a", ts.nn.ReLU())
