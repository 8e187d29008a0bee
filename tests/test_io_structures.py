"""ts.save / ts.load of what PyTorch programs give torch.save (issue 15): a Tensor, dicts mixing
Tensors and plain values, an optimizer's state_dict, lists and tuples, nested; compared with
torch.save / torch.load where PyTorch is installed, and resumed training compared with not
stopping. Nothing is pickled: the structure is JSON in the safetensors metadata."""
import io
import json
import math
import re
import struct
from collections import OrderedDict

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import io as tio
from tinyseq.io import structures

from .programs.harness import run_both

TORCH_REASON = "PyTorch is needed to compare with torch.save / torch.load"


def _round_trip(obj, **load_options):
    buffer = io.BytesIO()
    ts.save(obj, buffer)
    buffer.seek(0)
    return ts.load(buffer, **load_options)


def _torch_round_trip(torch, obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _assert_tree(got, want, path="obj"):
    """``got`` is ``want``: the same container types, keys (and key types) in the same order,
    plain values of the same type and value, arrays of the same kind, dtype, shape, values and
    ``requires_grad``. ``want`` may be PyTorch's: its Tensors then stand for tinyseq's."""
    kind = "Tensor" if type(want).__name__ in ("Tensor", "Parameter") else type(want).__name__
    assert (type(got).__name__ if kind != "Tensor" else "Tensor") == kind, path
    if isinstance(want, (dict, list, tuple)):
        assert type(got) is type(want), path
        if isinstance(want, dict):
            assert [(type(k), k) for k in got] == [(type(k), k) for k in want], path
            for k in want:
                _assert_tree(got[k], want[k], f"{path}[{k!r}]")
        else:
            assert len(got) == len(want), path
            for i, (g, w) in enumerate(zip(got, want)):
                _assert_tree(g, w, f"{path}[{i}]")
    elif kind == "Tensor":
        assert type(got) is ts.Tensor and got.requires_grad == want.requires_grad, path
        _assert_array(got.numpy(), want.detach().numpy(), path)
    elif isinstance(want, (np.ndarray, np.generic)):
        _assert_array(np.asarray(got), np.asarray(want), path)
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), path
    else:
        assert got == want, path


def _assert_array(got, want, path):
    assert (got.dtype, got.shape) == (want.dtype, want.shape), path
    np.testing.assert_array_equal(got, want, err_msg=path)


def _checkpoint_like(torch):
    """The objects PyTorch programs save, built with ``torch`` (PyTorch or tinyseq)."""
    g = np.random.default_rng(1)
    w = torch.tensor(g.standard_normal((3, 2)).astype(np.float32))
    return {
        "tensor": w,
        "int_tensor": torch.tensor([[1, 2], [3, 4]]),
        "bool_scalar": torch.tensor(True),
        "float64": torch.tensor(g.standard_normal(4), dtype=torch.float64),
        "empty": torch.zeros(0, 3),
        "mixed": {"epoch": 3, "loss": 1.25, "best": -0.0, "name": "lstm-2", "done": False,
                  "note": None, "model": OrderedDict([("weight", w), ("bias", torch.zeros(2))])},
        "list": [w * 2, torch.ones(1, dtype=torch.int64)],
        "tuple": (w, 1, (2.5, "x", None)),
        "nested": {"a": [{"b": ({"c": [w[0]]},)}]},
        "int_keys": {0: {"step": 4, "exp_avg": w}, 1: {"step": 4, "exp_avg": w[:, 0]}},
        "keys": {1: "int", 1.5: "float", False: "bool", None: "none", (1, "a"): "tuple",
                 "1": "str"},
        "empties": {"dict": {}, "list": [], "tuple": (), "deep": [[[]], {"x": ()}]},
        "floats": [float("inf"), float("-inf"), 1e-310, 2 ** 70, 1.0, 1],
    }


def test_every_structure_round_trips_and_is_what_torch_load_gives():
    """What tinyseq loads is what was saved; and PyTorch, saving and loading the same object,
    gets the same structure (types, key order, int keys, tuples, values, dtypes)."""
    obj = _checkpoint_like(ts)
    _assert_tree(_round_trip(obj), obj)
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    _assert_tree(_round_trip(obj), _torch_round_trip(torch, _checkpoint_like(torch)))


@pytest.mark.parametrize("make", [
    lambda t: t.tensor([[1.5, -2.0]]), lambda t: t.arange(6).reshape(2, 3),
    lambda t: t.tensor(3.0, dtype=t.float64), lambda t: [t.ones(2), t.zeros(1, dtype=t.int32)],
    lambda t: (t.ones(2), t.ones(2)), lambda t: [], lambda t: 7, lambda t: None,
    lambda t: t.ones(2, 2, requires_grad=True), lambda t: {"state": {}, "param_groups": []},
], ids=["tensor", "int64", "0-d float64", "list", "tuple", "empty list", "int", "None",
        "requires_grad", "empty optimizer"])
def test_a_single_object_round_trips_as_in_torch(make):
    _assert_tree(_round_trip(make(ts)), make(ts))
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    _assert_tree(_round_trip(make(ts)), _torch_round_trip(torch, make(torch)))


def test_numpy_values_come_back_as_numpy():
    """torch.load (with weights_only=False) gives numpy arrays and scalars back as numpy; tinyseq
    needs no pickle for them, and its optimisers keep their state in numpy arrays."""
    obj = {"a": np.arange(6, dtype=np.uint16).reshape(2, 3)[:, ::2], "s": np.float32(2.5),
           "i": np.int64(-3), "b": np.bool_(True), "f64": np.float64(0.1), "text": np.str_("x")}
    got = _round_trip(obj)
    assert [type(v) for v in got.values()] == [np.ndarray, np.float32, np.int64, np.bool_,
                                               np.float64, str]
    _assert_tree(got, {**obj, "text": "x"})


def test_an_optimizer_state_dict_round_trips_with_int_keys():
    model = ts.nn.GRU(2, 3)
    opt = ts.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    model(ts.ones(4, 1, 2))[0].sum().backward()
    opt.step()
    state = opt.state_dict()
    got = _round_trip(state)
    _assert_tree(got, state)
    assert list(got["state"]) == [0, 1, 2, 3] and got["param_groups"][0]["betas"] == (0.8, 0.9)
    fresh = ts.optim.Adam(ts.nn.GRU(2, 3).parameters())
    fresh.load_state_dict(got)
    _assert_tree(fresh.state_dict(), state)


def _train(torch, initial, path=None, stop_at=None, steps=8):
    """A GRU regression trained ``steps`` steps with Adam and StepLR; with ``stop_at``, the usual
    checkpoint dict is saved after that many steps and training goes on from it in a new model,
    optimiser and scheduler (their own weights overwritten by the checkpoint's)."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(3, 6, batch_first=True)
            self.head = torch.nn.Linear(6, 1)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    def build():
        model = Net()
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        return model, opt, torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

    g = np.random.default_rng(0)
    x = torch.tensor(g.standard_normal((4, 5, 3)).astype(np.float32))
    y = torch.tensor(g.standard_normal((4, 1)).astype(np.float32))
    torch.manual_seed(0)
    model, opt, sched = build()
    if initial is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    losses, ckpt = [], None
    for step in range(steps):
        if step == stop_at:
            torch.save({"epoch": step, "loss": losses[-1], "model": model.state_dict(),
                        "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
            model, opt, sched = build()
            loaded = torch.load(path, map_location="cpu", weights_only=True)
            # (torch's optimiser takes the loaded tensors and updates them in place: a second
            # load keeps what the file holds, to compare)
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(loaded["model"])
            opt.load_state_dict(loaded["optimizer"])
            sched.load_state_dict(loaded["scheduler"])
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return {"initial": initial, "losses": losses, "loaded": ckpt}


def test_a_checkpoint_saved_mid_training_resumes_as_if_never_stopped(tmp_path):
    """The same program on tinyseq and on PyTorch: saving {epoch, loss, model, optimizer,
    scheduler} after 4 steps and resuming from the file gives the losses of not stopping, on
    both, and tinyseq's losses are PyTorch's."""
    ours, theirs = run_both(_train)
    resumed, resumed_theirs = run_both(_train, path=tmp_path / "ckpt.pt", stop_at=4)
    assert resumed["losses"] == ours["losses"]  # exactly: nothing lost or rounded on the way
    assert ours["losses"][-1] < ours["losses"][0] / 2  # (it trains)
    loaded = resumed["loaded"]
    assert (loaded["epoch"], loaded["loss"]) == (4, ours["losses"][3])
    assert list(loaded["optimizer"]["state"]) == list(range(6))  # int keys stay ints
    if theirs is None:
        return
    assert resumed_theirs["losses"] == theirs["losses"]
    np.testing.assert_allclose(resumed["losses"], resumed_theirs["losses"], rtol=2e-5)
    theirs_loaded = resumed_theirs["loaded"]
    for key in ("epoch", "loss", "model", "scheduler"):
        if key == "scheduler":  # (torch's scheduler keeps two private flags more)
            common = loaded[key].keys() & theirs_loaded[key].keys()
            _assert_tree({k: loaded[key][k] for k in common},
                         {k: theirs_loaded[key][k] for k in common}, key)
        elif key == "loss":
            assert loaded[key] == pytest.approx(theirs_loaded[key], rel=2e-5)
        else:
            assert type(loaded[key]) is type(theirs_loaded[key])
    assert list(loaded["model"]) == list(theirs_loaded["model"])
    for i, state in theirs_loaded["optimizer"]["state"].items():
        for name in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_allclose(loaded["optimizer"]["state"][i][name],
                                       state[name].numpy(), rtol=1e-4, atol=1e-7)


def test_file_objects_and_paths(tmp_path):
    obj = _checkpoint_like(ts)
    p = tmp_path / "c.pt"
    with open(p, "wb") as f:
        assert ts.save(obj, f) is f
    with open(p, "rb") as f:
        _assert_tree(ts.load(f), obj)
    _assert_tree(ts.load(str(p), mmap=True, weights_only=False), obj)
    assert ts.save(obj, str(p)) == str(p)
    _assert_tree(ts.load(p), obj)


def test_names_of_the_entries_are_key_paths_any_safetensors_reader_sees(tmp_path):
    """A state_dict saved alone keeps its names; nested entries are named by their key path."""
    from safetensors.numpy import load_file
    model = ts.nn.Linear(2, 3)
    ts.save(model.state_dict(), tmp_path / "sd.safetensors")
    assert sorted(load_file(str(tmp_path / "sd.safetensors"))) == ["bias", "weight"]
    w = ts.ones(1)
    ts.save({"model": model.state_dict(), "opt": {0: {"m": w}}, "x": [w], "1": w, 1: w,
             "__metadata__": w}, tmp_path / "c.safetensors")
    assert sorted(load_file(str(tmp_path / "c.safetensors"))) == [
        "1", "1~2", "__metadata__~2", "model/bias", "model/weight", "opt/0/m", "x/0"]
    got = ts.load(tmp_path / "c.safetensors")
    assert list(got) == ["model", "opt", "x", "1", 1, "__metadata__"]


def test_the_same_tensor_twice_loads_as_two_equal_tensors():
    """PyTorch keeps one tensor where one was saved twice; tinyseq writes it twice (every entry
    stays an ordinary safetensors entry) and loads two equal tensors on their own memory."""
    w = ts.arange(3.0)
    a, b = _round_trip([w, w, {"again": w}])[:2]
    assert a is not b and a.tolist() == b.tolist() == [0.0, 1.0, 2.0]
    a.add_(1)
    assert b.tolist() == [0.0, 1.0, 2.0]


def test_a_parameter_loads_as_a_tensor_requiring_grad():
    """torch.load gives an nn.Parameter back; tinyseq's io knows only the engine's Tensor, so a
    Parameter loads as a Tensor with requires_grad=True (assign it through nn.Parameter)."""
    p = ts.nn.Linear(2, 1).weight
    got = _round_trip({"w": p})["w"]
    assert type(got) is ts.Tensor and got.requires_grad and got.tolist() == p.tolist()


def test_deep_nesting_to_the_limit_and_no_further():
    deep = ts.ones(1)
    for _ in range(structures.MAX_DEPTH):
        deep = [deep]
    got = _round_trip(deep)
    for _ in range(structures.MAX_DEPTH):
        got = got[0]
    assert got.tolist() == [1.0]
    with pytest.raises(ValueError, match=r"^ts.save: the object is nested more than 100 "
                                         r"containers deep \(at obj\[0\]\[0\]\[0\]\.\.\.\); "
                                         r"flatten it$"):
        _round_trip([deep])


def test_a_container_inside_itself_is_refused():
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"^ts.save: obj\['a'\]\[0\] contains itself"):
        _round_trip(loop)


def test_a_module_inside_is_refused_with_the_state_dict_way(tmp_path):
    with pytest.raises(TypeError, match=r"^ts.save: obj\['model'\] is a whole Linear module, "
                                        r".*save its weights, obj\['model'\].state_dict\(\)"):
        ts.save({"epoch": 1, "model": ts.nn.Linear(1, 1)}, tmp_path / "c.pt")
    assert list(tmp_path.iterdir()) == []


def test_map_location_forms(tmp_path):
    p = ts.save({"w": ts.ones(2), "a": np.zeros(1)}, tmp_path / "c.pt")
    for where in ("cpu", "cpu:0", ts.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"},
                  lambda storage, location: storage, lambda storage, location: None):
        assert ts.load(p, map_location=where)["w"].tolist() == [1.0, 1.0]
    seen = []
    ts.load(p, map_location=lambda storage, location: seen.append((storage, location)))
    assert [(type(t), loc) for t, loc in seen] == [(ts.Tensor, "cpu")]  # Tensors only
    swapped = ts.load(p, map_location=lambda storage, location: storage * 2)
    assert swapped["w"].tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="ts.load: map_location: 'cuda:1' is a GPU"):
        ts.load(p, map_location={"cpu": "cuda:1"})
    with pytest.raises(TypeError, match="ts.load: the map_location function returned a list; "
                                        "it must return the tensor it was given"):
        ts.load(p, map_location=lambda storage, location: [storage])
    with pytest.raises(TypeError, match="ts.load: map_location must be None, a device name"):
        ts.load(p, map_location=3)


def test_map_location_torch_devices(tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    p = ts.save([ts.ones(1)], tmp_path / "c.pt")
    assert ts.load(p, map_location=torch.device("cpu"))[0].tolist() == [1.0]
    assert ts.load(p, map_location={"cuda:0": torch.device("cpu")})[0].tolist() == [1.0]
    with pytest.raises(RuntimeError, match="'cuda' is a GPU"):
        ts.load(p, map_location=torch.device("cuda"))


def test_load_options_as_torch(tmp_path):
    p = ts.save({"w": ts.ones(1)}, tmp_path / "c.pt")
    import pickle
    for options in ({"weights_only": False}, {"weights_only": None}, {"mmap": True},
                    {"mmap": False}, {"pickle_module": pickle}):
        assert ts.load(p, **options)["w"].tolist() == [1.0]
    with pytest.raises(ValueError, match="ts.load: f must be a file path in order to use the "
                                         "mmap argument"):
        ts.load(io.BytesIO(p.read_bytes()), mmap=True)
    with pytest.raises(TypeError, match="ts.load: mmap must be None or a bool, got 'yes'"):
        ts.load(p, mmap="yes")


# ---- damaged files: one line naming the file and what is wrong ----

def _with_description(path, description, entries=None):
    """A safetensors file whose tinyseq description is ``description`` (text), by hand."""
    entries = entries or {"w": np.ones(2, np.float32)}
    header, offset, data = {}, 0, b""
    for name, a in entries.items():
        header[name] = {"dtype": {"float32": "F32", "int64": "I64"}[str(a.dtype)],
                        "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        data += a.tobytes()
    header["__metadata__"] = {tio.STRUCTURE: description}
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


@pytest.mark.parametrize("description, why", [
    ("{not json", "it is not JSON"),
    ('{"tensor": "missing"}', "it names the entry 'missing', which the file does not hold"),
    ('{"set": [1]}', r"it holds the node \{'set': \[1\]\}, which is none of list, tuple"),
    ('{"list": 3}', "a list holds 3, not a JSON list"),
    ('{"dict": [[1]]}', r"a dict item is \[1\], not a \[key, value\] pair"),
    ('{"dict": [[[1], 2]]}', "a dict key is"),
    ('{"float": "big"}', "a float node holds 'big'"),
    ('{"tensor": "w", "requires_grad": "yes"}', "the node of tensor 'w' is"),
    ('{"numpy": "w"}', r"entry 'w' holds a numpy scalar but has shape \(2,\)"),
    ('{"tensor": "n", "requires_grad": true}', "entry 'n' is int64 but requires grad"),
    ('{"list": [' * 120 + "1" + "]}" * 120, "nested more than 100 containers deep"),
    ("[" * 100000 + "]" * 100000, "nested more than 100 containers deep"),
], ids=["not json", "missing entry", "unknown node", "list body", "dict item", "list key",
        "float", "requires_grad", "numpy shape", "int requires grad", "deep", "very deep"])
def test_damaged_description_is_one_line(tmp_path, description, why):
    p = _with_description(tmp_path / "bad.pt", description,
                          {"w": np.ones(2, np.float32), "n": np.arange(2)})
    for f in (p, io.BytesIO(p.read_bytes())):
        with pytest.raises(tio.CheckpointError) as e:
            ts.load(f)
        message = str(e.value)
        assert message.startswith("ts.load: '") and "is damaged: its metadata " \
            "'tinyseq.structure', which says what was saved, is not valid: " in message
        assert "\n" not in message
        assert re.search(why, message), message


def test_a_valid_hand_written_description_loads(tmp_path):
    """The same writer as the damaged cases gives a file that loads: the cases fail for their
    one fault."""
    p = _with_description(tmp_path / "ok.pt", '{"dict": [[0, {"tensor": "w"}], ["n", '
                                              '{"ndarray": "n"}], ["x", {"float": "-inf"}]]}',
                          {"w": np.ones(2, np.float32), "n": np.arange(2)})
    got = ts.load(p)
    assert got[0].tolist() == [1.0, 1.0] and got["n"].tolist() == [0, 1]
    assert got["x"] == -math.inf


@pytest.mark.parametrize("cut", [3, 40, "header"])
def test_a_truncated_structured_file_is_one_line(tmp_path, cut):
    p = ts.save(_checkpoint_like(ts), tmp_path / "c.pt")
    data = p.read_bytes()
    p.write_bytes(data[:20] if cut == "header" else data[:-cut])
    with pytest.raises(tio.CheckpointError, match=r"c\.pt' is not a valid safetensors "
                                                  r"checkpoint") as e:
        ts.load(p)
    assert "\n" not in str(e.value)


def test_a_file_the_app_writes_still_loads(tmp_path):
    """The training command's checkpoint: its own reader checks it, and ts.load reads it."""
    from tinyseq.app.checkpoint import load_checkpoint, save_checkpoint
    from tinyseq.data import Vocab
    from tinyseq.models import CharLM
    vocab = Vocab.build("abcab")
    model = CharLM(vocab, 4)
    opt = ts.optim.Adam(model.parameters())
    config = {"hidden": 4, "layers": 1, "cell": "lstm", "embedding": None, "dropout": 0.0,
              "tie": False}
    path = save_checkpoint(tmp_path, model, config, step=0, optimizer=opt, losses=[])
    assert load_checkpoint(tmp_path).config == config
    arrays = ts.load(path)
    assert set(arrays) == {f"model/{k}" for k in model.state_dict()} | {"losses"}
    np.testing.assert_array_equal(arrays["model/head.weight"], model.head.weight.numpy())
