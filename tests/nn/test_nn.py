"""ts.nn against PyTorch: layers, losses, clipping, padding, state_dict; and an MLP that learns XOR."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tinyseq.nn import functional as F
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch


@pytest.mark.parametrize("make, in_shape", [
    (lambda m: m.Linear(3, 5), (3,)),
    (lambda m: m.Linear(1, 1, bias=False), (1,)),
    (lambda m: m.Sequential(m.Linear(4, 7), m.Tanh(), m.Linear(7, 2), m.Sigmoid()), (4,)),
    (lambda m: m.Sequential(m.Linear(4, 6), m.ReLU(), m.LayerNorm(6), m.Linear(6, 3)), (4,)),
    (lambda m: m.LayerNorm([2, 4]), (2, 4)),
])
@pytest.mark.parametrize("batch", [(1,), (5,), (2, 3)])
def test_layers_match_pytorch_after_loading_its_weights(make, in_shape, batch):
    x = np.random.default_rng(1).standard_normal(batch + in_shape)
    compare_module_with_torch(make, [x])


def test_default_initialisation_follows_pytorch_distributions():
    ts.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    assert 0.95 * bound < np.abs(lin.weight.numpy()).max() <= bound
    assert lin.weight.numpy().std() == pytest.approx(bound / np.sqrt(3), rel=0.02)
    emb = nn.Embedding(1000, 50, padding_idx=3)
    assert emb.weight.numpy().std() == pytest.approx(1.0, rel=0.02)
    assert not emb.weight.numpy()[3].any()
    assert lin.weight.dtype == emb.weight.dtype == ts.float32


def test_embedding_with_repeats_and_padding_matches_pytorch():
    ids = np.array([[1, 2, 1], [5, 2, 0]])
    ours, *_ = compare_module_with_torch(lambda m: m.Embedding(6, 3, padding_idx=2), [ids])
    assert not ours.weight.grad.numpy()[2].any()


def test_dropout_in_train_and_eval_mode():
    d = nn.Dropout(0.25)
    x = ts.ones(200, 200, requires_grad=True)
    y = d(x)
    kept = y.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)
    assert d.eval()(x) is x and not d.training


LOSSES = [
    ("cross_entropy", lambda f, x, y, **k: f.cross_entropy(x, y, **k), (5, 4), "class"),
    ("cross_entropy_seq", lambda f, x, y, **k: f.cross_entropy(x, y, **k), (2, 4, 3), "class"),
    ("nll_loss", lambda f, x, y, **k: f.nll_loss(x.log_softmax(1), y, **k), (5, 4), "class"),
    ("bce", lambda f, x, y, **k: f.binary_cross_entropy(x.sigmoid(), y, **k), (3, 4), "prob"),
    ("bce_logits", lambda f, x, y, **k: f.binary_cross_entropy_with_logits(x, y, **k), (3, 4),
     "prob"),
    ("mse", lambda f, x, y, **k: f.mse_loss(x, y, **k), (3, 4), "prob"),
]


@pytest.mark.parametrize("name, loss, shape, kind", LOSSES, ids=[c[0] for c in LOSSES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_losses_match_pytorch(name, loss, shape, kind, reduction, scale):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * scale
    if kind == "class":
        y = rng.integers(0, shape[1], (shape[0],) + shape[2:])
        y.flat[0] = -100  # ignored
    else:
        y = rng.random(shape)
    outs, _ = compare_with_torch(
        lambda m, x, y: loss(m.nn.functional, x, y, reduction=reduction), None, [x, y],
        requires_grad=[True, False], dtype=np.float32)
    assert np.isfinite(outs[0].numpy()).all()


def test_loss_modules_and_bad_targets():
    x = ts.randn(4, 3)
    y = ts.tensor([0, 2, 1, 1])
    assert nn.CrossEntropyLoss()(x, y).item() == pytest.approx(F.cross_entropy(x, y).item())
    with pytest.raises(TypeError, match=r"expected integer \(int64\) indices.*\.long\(\)"):
        F.cross_entropy(x, y.float())
    with pytest.raises(ts.ShapeError, match=r"expected target shape \(4,\)"):
        F.cross_entropy(x, ts.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds .*\[0, 3\)"):
        F.cross_entropy(x, ts.tensor([0, 3, 1, 1]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ts.ShapeError, match="must have the input's shape"):
        F.mse_loss(x, ts.randn(3))


def test_one_hot():
    assert F.one_hot(ts.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(ts.tensor([1])).dtype == ts.int64


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4,)]]
    ps = [ts.zeros(*g.shape, requires_grad=True) for g in grads]
    tps = [torch.zeros(*g.shape, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = ts.tensor(g), torch.tensor(g)
    norm = nn.utils.clip_grad_norm_(ps, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(tps, max_norm)
    assert norm.item() == pytest.approx(tnorm.item(), rel=1e-6)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5)
    nn.utils.clip_grad_value_(ps, 0.1)
    torch.nn.utils.clip_grad_value_(tps, 0.1)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5)


def test_clip_grad_norm_of_float32_gradients_beyond_float32_squares():
    p = ts.zeros(4, requires_grad=True)
    p.grad = ts.tensor(np.full(4, 1e20, np.float32))  # squares overflow float32
    norm = nn.utils.clip_grad_norm_([p], 1.0)
    assert norm.item() == pytest.approx(2e20, rel=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), 0.5, rtol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_pytorch_and_backpropagates(batch_first):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 2)]
    compare_with_torch(lambda m, *seqs: m.nn.utils.rnn.pad_sequence(
        list(seqs), batch_first=batch_first, padding_value=-1.0), None, seqs, dtype=np.float32)


def test_module_registration_names_and_state_dict():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 3)
            self.head = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
            self.scale = 2.0

    net = Net()
    names = [k for k, _ in net.named_parameters()]
    assert names == ["embed.weight", "head.0.weight", "head.0.bias", "head.2.weight",
                     "head.2.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                     "blocks.1.bias"]
    assert list(net.state_dict()) == names and len(list(net.parameters())) == 9
    assert [type(c).__name__ for c in net.children()] == ["Embedding", "Sequential", "ModuleList"]
    assert len(list(net.modules())) == 9 and net.scale == 2.0
    assert "(head): Sequential(\n    (0): Linear(in_features=3, out_features=4, bias=True)" in repr(net)
    net.eval()
    assert not any(m.training for m in net.modules())


def test_load_state_dict_names_every_problem_and_copies_in_place():
    lin = nn.Linear(3, 2)
    weight = lin.weight
    with pytest.raises(ts.ShapeError) as info:
        lin.load_state_dict({"weight": np.zeros((3, 3)), "extra": np.zeros(1)})
    msg = str(info.value)
    assert "shape mismatch for weight: the checkpoint has (3, 3), the model has (2, 3)" in msg
    assert "missing keys: bias" in msg and "unexpected keys: extra" in msg
    assert "\n" not in msg and "nothing was loaded" in msg
    missing, unexpected = lin.load_state_dict({"weight": ts.ones(2, 3)}, strict=False)
    assert missing == ["bias"] and unexpected == [] and lin.weight is weight
    assert weight.numpy().sum() == 6


def test_zero_grad_and_parameters_used_by_an_optimizer_stay_the_same_objects():
    lin = nn.Linear(2, 1)
    lin(ts.ones(3, 2)).sum().backward()
    assert lin.weight.grad is not None
    lin.zero_grad(set_to_none=False)
    assert not lin.weight.grad.numpy().any()
    lin.zero_grad()
    assert lin.weight.grad is None


def test_linear_is_one_op_and_names_the_shapes_that_do_not_fit():
    w, b = ts.ones(4, 3, requires_grad=True), ts.ones(4)
    assert F.linear(ts.ones(2, 3), w, b).grad_fn.name == "linear"
    with pytest.raises(ts.ShapeError, match=r"linear: input \(2, 5\), weight \(4, 3\) do not fit"):
        F.linear(ts.ones(2, 5), w)
    with pytest.raises(ts.ShapeError, match=r"bias \(3,\) do not fit: expected .* bias "
                                            r"\(out_features,\)"):
        F.linear(ts.ones(2, 3), w, ts.ones(3))
    with pytest.raises(ts.ShapeError, match=r"bias \(5, 2, 4\) do not fit.*broadcastable"):
        F.linear(ts.ones(2, 3), w, ts.ones(5, 2, 4))  # would grow the output
    assert F.linear(ts.ones(2, 3), w, ts.ones(2, 1)).shape == (2, 4)


def test_evaluating_switches_dropout_off_for_a_block_and_restores_the_mode():
    net = nn.Sequential(nn.Dropout(0.5))
    x = ts.ones(1000)
    with nn.evaluating(net):
        assert not net.training and (net(x).numpy() == 1).all()
    assert net.training and (net(x).numpy() == 0).any()
    net.eval()
    with pytest.raises(RuntimeError), nn.evaluating(net):
        raise RuntimeError
    assert not net.training  # as it was, even after an error


def test_module_call_pushes_its_attribute_name_as_a_scope():
    net = nn.Sequential(nn.Linear(2, 2))
    y = net(ts.ones(1, 2))
    assert y.grad_fn.scope == ("sequential", "0")  # the root is named after its class


def test_mlp_learns_xor():
    ts.manual_seed(0)
    x = ts.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = ts.tensor([[0.0], [1.0], [1.0], [0.0]])
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(500):
        net.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        with ts.no_grad():
            for p in net.parameters():
                p -= 0.5 * p.grad
    assert loss.item() < 0.05
    assert ((net(x).numpy() > 0) == (y.numpy() > 0.5)).all()


def test_checkpoint_moves_a_model_to_pytorch_and_back(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ts.manual_seed(3)
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ts.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(safetensors_torch.load_file(tmp_path / "ours.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(-2)
    safetensors_torch.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours.load_state_dict(ts.load(tmp_path / "theirs.safetensors"))
    np.testing.assert_allclose(ours(ts.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


class Owner(nn.Module):  # at module level, so that pickle finds it
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3, 1)


class Taker(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body


def test_modules_survive_copy_and_pickle_and_are_freed_by_reference_counting():
    import copy
    import gc
    import pickle
    import weakref

    net = Owner()
    assert len(pickle.dumps(net.head.bias)) < 2000  # one parameter, not the whole model
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.head.weight is not net.head.weight
        np.testing.assert_array_equal(clone.head.weight.numpy(), net.head.weight.numpy())
    other = Taker(net.head)  # moved to another model
    gone = weakref.ref(net)
    gc.disable()
    try:
        del net
        assert gone() is None  # freed by reference counting, not kept alive by its parts
    finally:
        gc.enable()
    assert [k for k, _ in other.named_parameters()] == ["body.weight", "body.bias"]
