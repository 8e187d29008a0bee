"""gradient_flow against PyTorch's retained gradients of an unrolled layer and against finite
differences in float64; the vanishing gradient of a contracting tanh RNN; the layer left as it
was; clear errors; plot_gradient_flow writes png/svg/pdf and masks zeros."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tinyseq.autograd import Node
from tinyseq.viz.flow import gradient_flow, plot_gradient_flow

T, B, I, H = 7, 3, 4, 5


def _x(shape, dtype=np.float32, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _tail_loss(out, state):
    """A loss through both the output and the final state, written so it runs on either library."""
    h_n = state[0] if isinstance(state, tuple) else state
    return (out * out).mean() + out[2].sum() + (h_n * h_n).sum()


# ---- PyTorch as the reference ---------------------------------------------------------------
def _torch_flow(layer, kind, x, loss_fn):
    """‖∂L/∂h⟨t⟩‖ of ``layer`` rebuilt in torch from its state_dict, one cell step at a time,
    with ``retain_grad()`` on every hidden state of the last layer (both directions summed)."""
    torch = pytest.importorskip("torch")
    sd = {k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()}
    inp = torch.tensor(x).transpose(0, 1) if layer.batch_first else torch.tensor(x)
    dirs = 2 if layer.bidirectional else 1
    finals = []
    for lay in range(layer.num_layers):
        per_dir = []
        for d in range(dirs):
            hs, final = _torch_direction(torch, kind, sd, f"_l{lay}" + ("_reverse" if d else ""),
                                         inp, reverse=d == 1)
            per_dir.append(hs)
            finals.append(final)
        inp = torch.stack([torch.cat([hs[t] for hs in per_dir], -1) for t in range(len(inp))])
    out = inp.transpose(0, 1) if layer.batch_first else inp
    if kind == "LSTM":
        state = torch.stack([h for h, _ in finals]), torch.stack([c for _, c in finals])
    else:
        state = torch.stack(finals)
    loss_fn(out, state).backward()
    last = per_dir  # the last layer's hidden states, one list per direction
    return np.sqrt(sum(np.array([(h.grad ** 2).sum().item() for h in hs]) for hs in last))


def _torch_direction(torch, kind, sd, suffix, inp, reverse):
    """One layer and direction: its hidden states (each with ``retain_grad``) and final state."""
    weights = {k[: -len(suffix)]: v for k, v in sd.items() if k.endswith(suffix)}
    n_in = weights["weight_ih"].shape[1]
    cell = getattr(torch.nn, f"{kind}Cell")(n_in, H, bias="bias_ih" in weights)
    cell.load_state_dict(weights)
    h = c = torch.zeros(inp.shape[1], H)
    hs = [None] * len(inp)
    for t in (range(len(inp) - 1, -1, -1) if reverse else range(len(inp))):
        if kind == "LSTM":
            h, c = cell(inp[t], (h, c))
        else:
            h = cell(inp[t], h)
        h.retain_grad()
        hs[t] = h
    return hs, ((h, c) if kind == "LSTM" else h)


def _default_loss(batch_first):
    return lambda out, state: (out[:, -1] if batch_first else out[-1]).sum()


TORCH_CASES = [dict(kind=k, **opts) for k in ("RNN", "GRU", "LSTM") for opts in (
    {}, dict(num_layers=2), dict(batch_first=True), dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True), dict(loss="tail"),
    dict(num_layers=2, bidirectional=True, loss="tail"))]


@pytest.mark.parametrize("case", TORCH_CASES,
                         ids=["-".join(f"{k}={v}" for k, v in c.items()) for c in TORCH_CASES])
def test_gradient_flow_matches_pytorch(case):
    pytest.importorskip("torch", reason="PyTorch is the reference for gradient_flow")
    case = dict(case)
    kind, custom = case.pop("kind"), case.pop("loss", None) == "tail"
    layer = getattr(nn, kind)(I, H, **case)
    bf = layer.batch_first
    x = _x((B, T, I) if bf else (T, B, I))
    loss_fn = _tail_loss if custom else None
    ours = gradient_flow(layer, ts.tensor(x), loss_fn)
    theirs = _torch_flow(layer, kind, x, _tail_loss if custom else _default_loss(bf))
    assert ours.shape == (T,) and ours.dtype == np.float64
    assert (theirs > 0).all()  # every step reaches the loss: a step left at 0 would be a miss
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-7)


# ---- float64, independent of PyTorch and of the engine --------------------------------------
def _numpy_rnn_loss(params, x, w, deltas):
    """The loss of a tanh RNN in plain numpy, with ``deltas[t]`` added to h⟨t⟩ (so that
    ∂L/∂deltas[t] is the total ∂L/∂h⟨t⟩); L = Σ_t Σ w[t] * h⟨t⟩ + Σ h_n²."""
    h = np.zeros((x.shape[1], H))
    loss = 0.0
    for t in range(len(x)):
        h = np.tanh(x[t] @ params["weight_ih_l0"].T + params["bias_ih_l0"]
                    + h @ params["weight_hh_l0"].T + params["bias_hh_l0"]) + deltas[t]
        loss += (w[t] * h).sum()
    return loss + (h * h).sum()


def test_gradient_flow_matches_finite_differences_in_float64():
    layer = nn.RNN(I, H)
    for p in layer.parameters():
        p.data = p.data.double()
    params = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    x, w = _x((T, B, I), np.float64), _x((T, B, H), np.float64, seed=2)

    def loss_fn(out, h_n):
        return (out * ts.tensor(w, dtype=ts.float64)).sum() + (h_n * h_n).sum()

    curve = gradient_flow(layer, ts.tensor(x, dtype=ts.float64), loss_fn)
    eps, grads = 1e-6, np.zeros((T, B, H))
    for index in np.ndindex(grads.shape):
        up, down = np.zeros((T, B, H)), np.zeros((T, B, H))
        up[index], down[index] = eps, -eps
        grads[index] = (_numpy_rnn_loss(params, x, w, up)
                        - _numpy_rnn_loss(params, x, w, down)) / (2 * eps)
    np.testing.assert_allclose(curve, np.linalg.norm(grads.reshape(T, -1), axis=1), rtol=1e-7)


# ---- what the course says about it ----------------------------------------------------------
def test_tanh_rnn_with_small_recurrent_weights_shows_the_vanishing_gradient():
    # ‖W_aa‖ = 0.5 and tanh' <= 1: every step back through time shrinks ∂L/∂a⟨t⟩ at least twofold
    layer = nn.RNN(I, H)
    q, _ = np.linalg.qr(_x((H, H), np.float64))
    layer.weight_hh_l0.data = ts.tensor(0.5 * q, dtype=ts.float32)
    curve = gradient_flow(layer, ts.tensor(_x((20, B, I))))
    assert (curve[:-1] <= 0.5 * curve[1:] * (1 + 1e-5)).all()
    assert curve[0] < 1e-5 * curve[-1]


def test_gru_with_its_update_gate_open_carries_the_gradient_back():
    # z ≈ 1 gives h⟨t⟩ ≈ h⟨t-1⟩: the identity path that lets a GRU remember (course's Γ_u ≈ 0)
    layer = nn.GRU(I, H)
    layer.bias_ih_l0.data[H:2 * H] = 12.0
    curve = gradient_flow(layer, ts.tensor(_x((20, B, I))))
    assert curve[0] > 0.9 * curve[-1]


# ---- side effects ---------------------------------------------------------------------------
def test_parameter_grads_and_input_are_left_alone():
    layer = nn.LSTM(I, H, num_layers=2)
    x = ts.tensor(_x((T, B, I)), requires_grad=True)
    layer(x)[0].sum().backward()
    before = {k: p.grad.numpy().copy() for k, p in layer.named_parameters()}
    x_grad = x.grad.numpy().copy()
    curve = gradient_flow(layer, x, _tail_loss)
    for k, p in layer.named_parameters():
        np.testing.assert_array_equal(p.grad.numpy(), before[k], err_msg=k)
    np.testing.assert_array_equal(x.grad.numpy(), x_grad)
    fresh = nn.GRU(I, H)
    gradient_flow(fresh, ts.tensor(_x((T, B, I))))
    assert all(p.grad is None for p in fresh.parameters())
    np.testing.assert_array_equal(gradient_flow(layer, x, _tail_loss), curve)


def test_hooks_are_removed_afterwards(monkeypatch):
    hooked = []
    register = Node.register_hook

    def spy(node, hook, output=0):
        hooked.append(node)
        return register(node, hook, output)

    monkeypatch.setattr(Node, "register_hook", spy)
    gradient_flow(nn.GRU(I, H, bidirectional=True), ts.tensor(_x((T, B, I))))
    assert len(hooked) == 2 * T
    assert all(not any(node.hooks.values()) for node in hooked)


def test_a_step_the_loss_never_reaches_has_zero_gradient():
    layer = nn.RNN(I, H)  # L depends on output[2] only: steps 3.. get nothing
    curve = gradient_flow(layer, ts.tensor(_x((T, B, I))), lambda out, h: out[2].sum())
    assert (curve[:3] > 0).all()
    np.testing.assert_array_equal(curve[3:], 0.0)


def test_gradient_flow_asks_the_layer_for_its_hidden_states():
    class Wrapped:  # not a ts.nn layer: anything whose unroll(x) gives (output, state, steps)
        def __init__(self, layer):
            self.layer, self.unrolled = layer, 0

        def unroll(self, x):
            self.unrolled += 1
            return self.layer.unroll(x)

        def parameters(self):
            return self.layer.parameters()

    layer, x = nn.GRU(I, H, bidirectional=True), ts.tensor(_x((T, B, I)))
    wrapped = Wrapped(layer)
    curve = gradient_flow(wrapped, x, _tail_loss)
    assert wrapped.unrolled == 1
    np.testing.assert_array_equal(curve, gradient_flow(layer, x, _tail_loss))
    assert (curve > 0).all()


# ---- errors ---------------------------------------------------------------------------------
def test_a_layer_that_is_not_recurrent_is_refused():
    x = ts.tensor(_x((T, B, I)))
    with pytest.raises(TypeError, match=r"gradient_flow: expected a recurrent layer .*Linear"):
        gradient_flow(nn.Linear(I, H), x)
    with pytest.raises(TypeError, match=r"gradient_flow: expected a recurrent layer .*function"):
        gradient_flow(lambda x: (x, x), x)

    class Head(nn.Module):  # a model around an RNN: it has no unroll() giving each h⟨t⟩
        def __init__(self):
            super().__init__()
            self.rnn, self.out = nn.RNN(I, H), nn.Linear(H, 2)

        def forward(self, x):
            output, h = self.rnn(x)
            return self.out(output), h

    with pytest.raises(TypeError, match=r"got Head, which has no unroll\(\) giving the hidden "
                                        r"states of each step; .*not a model around it"):
        gradient_flow(Head(), x)


def test_bad_inputs_are_refused():
    layer = nn.RNN(I, H)
    with pytest.raises(ValueError, match=r"gradient_flow: x must be a 3-d Tensor .*shape \(7, 4\)"):
        gradient_flow(layer, ts.tensor(_x((T, I))))
    with pytest.raises(ValueError, match=r"x must be a 3-d Tensor .*got ndarray"):
        gradient_flow(layer, _x((T, B, I)))
    with ts.no_grad(), pytest.raises(RuntimeError, match=r"gradient_flow: grad mode is off"):
        gradient_flow(layer, ts.tensor(_x((T, B, I))))
    for p in layer.parameters():
        p.requires_grad_(False)
    with pytest.raises(RuntimeError, match=r"no graph: neither x nor the layer's parameters"):
        gradient_flow(layer, ts.tensor(_x((T, B, I))))


@pytest.mark.parametrize("loss_fn, what", [
    (lambda out, h: out.sum(dim=0), r"a Tensor of shape \(3, 5\)"),
    (lambda out, h: float(out.sum().item()), "got float"),
    (lambda out, h: ts.tensor(1.0), r"requires_grad=False"),
])
def test_a_loss_that_is_not_a_one_element_tensor_is_refused(loss_fn, what):
    with pytest.raises(ValueError, match=r"loss_fn\(output, state\) must return a one-element "
                                         r"Tensor.*" + what):
        gradient_flow(nn.GRU(I, H), ts.tensor(_x((T, B, I))), loss_fn)


# ---- plot_gradient_flow ---------------------------------------------------------------------
@pytest.fixture
def curves():
    pytest.importorskip("matplotlib", reason="plot_gradient_flow draws with matplotlib")
    x = ts.tensor(_x((12, B, I)))
    return {kind.lower(): gradient_flow(getattr(nn, kind)(I, H), x)
            for kind in ("RNN", "GRU", "LSTM")}


def test_plot_writes_png_svg_and_pdf(curves, tmp_path):
    png = plot_gradient_flow(curves, tmp_path / "flow.png", title="12 steps")
    assert png == tmp_path / "flow.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    svg = plot_gradient_flow(curves, str(tmp_path / "flow.svg")).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert all(f"<!-- {label} -->" in svg for label in curves)  # the legend's text
    assert plot_gradient_flow(curves, tmp_path / "flow.pdf").read_bytes()[:5] == b"%PDF-"


def test_plot_leaves_the_pyplot_backend_alone(curves, tmp_path):
    import matplotlib

    backend = matplotlib.get_backend()
    plot_gradient_flow(curves, tmp_path / "flow.png")
    assert matplotlib.get_backend() == backend


def test_plot_masks_zeros(curves, tmp_path):
    curves["cut"] = np.array([0.0, 0.0, 1e-3, 1e-2, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = plot_gradient_flow(curves, tmp_path / "flow.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("bad, match", [
    ({}, r"curves must be a non-empty dict"),
    ([np.ones(3)], r"curves must be a non-empty dict"),
    ({"lstm": np.ones((2, 3))}, r"curve 'lstm' must be a non-empty 1-d array.*\(2, 3\)"),
    ({"gru": []}, r"curve 'gru' must be a non-empty 1-d array"),
])
def test_plot_refuses_bad_curves(bad, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        plot_gradient_flow(bad, tmp_path / "flow.png")


def test_plot_refuses_bad_paths(curves, tmp_path):
    with pytest.raises(ValueError, match=r"the suffix must be one of \.png, \.svg, \.pdf"):
        plot_gradient_flow(curves, tmp_path / "flow.jpg")
    with pytest.raises(FileNotFoundError, match=r"plot_gradient_flow: the folder .* not exist"):
        plot_gradient_flow(curves, tmp_path / "missing" / "flow.png")
    assert not list(tmp_path.iterdir())


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"plot_gradient_flow needs matplotlib: "
                                          r'pip install -e "\.\[plot\]" in the repository'):
        plot_gradient_flow({"rnn": np.ones(3)}, tmp_path / "flow.png")


def test_plot_without_a_path_returns_a_figure_a_notebook_shows(curves):
    fig = plot_gradient_flow(curves, title="12 steps")
    ax, = fig.axes
    assert ax.get_yscale() == "log" and ax.get_title() == "12 steps"
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert [ax.get_legend().get_texts()[i].get_text() for i in range(3)] == list(curves)
    for (label, curve), ydata in zip(curves.items(), lines.values()):
        np.testing.assert_allclose(np.ma.getdata(ydata), curve)
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # IPython shows it, pyplot or not
