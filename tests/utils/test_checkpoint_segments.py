"""``checkpoint_sequential`` and a recurrent layer in checkpointed segments of its steps (the
recipe of docs/nn.md) against PyTorch and against no checkpoint, and the memory they save: the
arrays a graph keeps, and tracemalloc's peak over a training step."""
import math
import tracemalloc

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch
from tests.utils.test_checkpoint import both, saved_bytes
from tinyseq.utils.checkpoint import checkpoint_sequential


@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_torch(segments):
    model = ts.nn.Sequential(ts.nn.Linear(4, 6), ts.nn.Tanh(), ts.nn.Linear(6, 3), ts.nn.Sigmoid())
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3),
                                 torch.nn.Sigmoid())
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x, tx = both(np.random.randn(5, 4).astype(np.float32))
    y = checkpoint_sequential(model, segments, x, use_reentrant=False)
    ty = torch.utils.checkpoint.checkpoint_sequential(tmodel, segments, tx, use_reentrant=False)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model[0].weight.grad.numpy(), tmodel[0].weight.grad.numpy(),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("segments", [0, 5, 2.0])
def test_checkpoint_sequential_refuses_segments_out_of_range(segments):
    funcs = [ts.tanh] * 4
    with pytest.raises(ValueError, match=f"segments must be an int from 1 to .*4.*{segments}"):
        checkpoint_sequential(funcs, segments, ts.ones(2), use_reentrant=False)


def test_checkpoint_sequential_refuses_other_keywords_as_torch():
    with pytest.raises(ValueError, match="foo"):
        torch.utils.checkpoint.checkpoint_sequential([torch.tanh], 1, torch.ones(2),
                                                     use_reentrant=False, foo=1)
    with pytest.raises(ValueError, match="checkpoint_sequential: .*foo"):
        checkpoint_sequential([ts.tanh], 1, ts.ones(2), use_reentrant=False, foo=1)


# ---- the recurrent recipe (docs/nn.md) and the memory it saves ------------------------------
def run_in_segments(lib, layer, x, segment):
    """docs/nn.md's recipe: the layer over segments of ``segment`` steps, each checkpointed."""
    outputs, state = [], None
    for chunk in x.split(segment):
        out, state = lib.utils.checkpoint.checkpoint(layer, chunk, state, use_reentrant=False)
        outputs.append(out)
    return lib.cat(outputs), state


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layer_in_checkpointed_segments_matches_torch_and_the_whole_layer(kind):
    T, B, I, H = 9, 2, 3, 4
    layer = getattr(ts.nn, kind)(I, H, num_layers=2)
    tlayer = getattr(torch.nn, kind)(I, H, num_layers=2)
    tlayer.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    x, tx = both(np.random.randn(T, B, I).astype(np.float32))
    out, _ = run_in_segments(ts, layer, x, 3)
    tout, _ = run_in_segments(torch, tlayer, tx, 3)
    whole, _ = layer(x)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), whole.numpy(), rtol=1e-6, atol=1e-7)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), getattr(tlayer, name).grad.numpy(),
                                   rtol=1e-4, atol=1e-6)


def lstm_step(T, segment, B=4, H=32):
    """A function of no arguments: forward of an LSTM(8, H) and a head over T steps of a batch of
    B, in checkpointed segments of ``segment`` steps (None: the layer whole); returns the loss."""
    ts.manual_seed(0)
    layer, head = ts.nn.LSTM(8, H), ts.nn.Linear(H, 5)
    x = ts.randn(T, B, 8)

    def forward():
        out, _ = layer(x) if segment is None else run_in_segments(ts, layer, x, segment)
        return head(out).logsumexp(-1).mean()
    return forward


def test_segments_of_sqrt_t_steps_keep_a_fraction_of_the_saved_arrays():
    T = 64
    whole, segmented = lstm_step(T, None)(), lstm_step(T, math.isqrt(T))()
    # kept: each segment's input chunk and state, and the head's input (the layer's outputs)
    assert saved_bytes(segmented) < 0.25 * saved_bytes(whole)


def test_peak_memory_of_a_training_step_falls_with_segments():
    """tracemalloc's peak over forward and backward. Not all of it is activations: the graph's
    nodes stay (their saved arrays go), and a weight's gradient keeps up to 512 rows of its
    pairs (``autograd/deferred.py``); hence a batch of 32 and H=128 (W2 has 32 and 256)."""
    def peak(segment):
        step = lstm_step(64, segment, B=32, H=128)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            step().backward()
            return tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()

    assert peak(8) < 0.65 * peak(None)  # (measured: 0.56)
