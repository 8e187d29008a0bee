"""ts.save / ts.load: safetensors round trips, PyTorch interchange, clear errors, atomic writes."""
import errno
import io
import json
import os
import pathlib
import pickle
import struct
import subprocess
import types

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import io as tio

TORCH_REASON = "PyTorch is needed for the interchange tests"


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal((2, 3, 5)),
        "i64": np.arange(-5, 7, dtype=np.int64).reshape(3, 4),
        "bool": rng.random((4,)) > 0.5,
        "scalar_f32": np.array(1.5, dtype=np.float32),
        "scalar_i64": np.array(-3, dtype=np.int64),
        "scalar_bool": np.array(True),
        "empty_f32": np.zeros((0, 3), dtype=np.float32),
        "empty_i64": np.zeros((0,), dtype=np.int64),
        "empty_bool": np.zeros((2, 0), dtype=bool),
    }


def _assert_same(got, want, kind=np.ndarray):
    """``got`` holds ``want``'s arrays, in its order, as ``kind`` (``ts.load`` gives back numpy
    arrays as numpy arrays and Tensors as Tensors; a file from elsewhere gives Tensors)."""
    assert list(got) == list(want)
    for k in want:
        assert type(got[k]) is kind, k
        value = got[k].numpy() if kind is ts.Tensor else got[k]
        assert kind is np.ndarray or not got[k].requires_grad, k
        assert value.dtype == want[k].dtype, k
        assert value.shape == want[k].shape, k
        np.testing.assert_array_equal(value, want[k], err_msg=k)


def test_round_trip_dtypes_and_shapes(tmp_path):
    want = _arrays()
    p = tmp_path / "m.safetensors"
    assert ts.save(want, p) == p
    _assert_same(ts.load(p), want)
    _assert_same(ts.load(str(p)), want)  # str paths too
    ts.save({k: ts.from_numpy(a) for k, a in want.items()}, p)
    _assert_same(ts.load(p), want, kind=ts.Tensor)


def test_a_file_without_structure_loads_as_a_dict_of_tensors(tmp_path):
    """What safetensors writes elsewhere, and what tinyseq wrote before it saved structures:
    entries only, no description. It loads as before, name -> Tensor, in the file's order."""
    import safetensors.numpy
    want = _arrays()
    p = tmp_path / "plain.safetensors"
    safetensors.numpy.save_file(want, str(p), metadata={"format": "np"})
    got = ts.load(p)
    _assert_same(got, dict(sorted(want.items())), kind=ts.Tensor)
    assert tio.load_with_metadata(p)[1] == {"format": "np"}


def test_str_path_and_overwrite(tmp_path):
    p = str(tmp_path / "m.safetensors")
    assert ts.save({"a": np.ones(2)}, p) == p
    ts.save({"b": np.zeros(3, np.int64)}, p)
    _assert_same(ts.load(p), {"b": np.zeros(3, np.int64)})


def test_non_contiguous_and_tensor_and_list_values(tmp_path):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = ts.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    sd = {"strided": base[:, ::2], "transposed": base.T, "tensor": t,
          "int_tensor": ts.tensor([1, 2, 3]), "list": [1.0, 2.0]}
    p = ts.save(sd, tmp_path / "m.safetensors")
    got = ts.load(p)
    np.testing.assert_array_equal(got["strided"], base[:, ::2])
    np.testing.assert_array_equal(got["transposed"], base.T)
    assert got["tensor"].numpy().dtype == t.numpy().dtype
    np.testing.assert_array_equal(got["tensor"], t.numpy())
    assert got["int_tensor"].numpy().dtype == ts.tensor([1, 2, 3]).numpy().dtype
    np.testing.assert_array_equal(got["int_tensor"], [1, 2, 3])
    np.testing.assert_array_equal(got["list"], [1.0, 2.0])


def test_metadata_is_stored(tmp_path):
    from safetensors import safe_open
    p = ts.save({"a": np.ones(1)}, tmp_path / "m.safetensors", metadata={"step": "7"})
    with safe_open(str(p), framework="numpy") as f:
        assert f.metadata()["step"] == "7"
        assert set(f.metadata()) == {"step", tio.STRUCTURE}
    assert tio.load_with_metadata(p)[1] == {"step": "7"}  # the description is tinyseq's own
    with pytest.raises(TypeError, match="metadata"):
        ts.save({"a": np.ones(1)}, tmp_path / "n.safetensors", metadata={"step": 7})
    with pytest.raises(ValueError, match="metadata entry 'tinyseq.structure' is tinyseq's own"):
        ts.save({"a": np.ones(1)}, tmp_path / "n.safetensors",
                metadata={tio.STRUCTURE: "{}"})
    assert sorted(q.name for q in tmp_path.iterdir()) == ["m.safetensors"]


@pytest.mark.parametrize("key", [frozenset({1}), np.int64(3), b"k", ("a", frozenset())])
def test_a_key_that_is_not_plain_is_refused(tmp_path, key):
    p = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match=r"^ts.save: obj\['inner'\] has the key .*; checkpoint "
                                        r"keys are str, int, float, bool, None or tuples"):
        ts.save({"ok": np.ones(1), "inner": {key: np.ones(1)}}, p)
    assert not p.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.array([object(), 1], dtype=object),
                                   np.array([1 + 2j]), np.array([1j], np.complex64),
                                   np.array(["2020-01-01"], "datetime64[D]")])
def test_non_numeric_dtype_refused(tmp_path, value):
    p = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match=r"^ts.save: obj\['bad'\] has dtype"):
        ts.save({"ok": np.ones(1), "bad": value}, p)
    assert list(tmp_path.iterdir()) == []


def test_any_mapping_saves(tmp_path):
    p = ts.save(types.MappingProxyType({"a": np.ones(2)}), tmp_path / "m.safetensors")
    assert ts.load(p)["a"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("value, kind", [(object(), "object"), ({1, 2}, "set"),
                                         (1 + 2j, "complex"), (b"raw", "bytes")])
def test_an_object_a_checkpoint_cannot_hold_names_its_key_path(tmp_path, value, kind):
    """torch.save pickles any object; tinyseq never pickles, and says which entry holds what."""
    p = tmp_path / "m.safetensors"
    with pytest.raises(TypeError) as e:
        ts.save({"model": {}, "extra": [1, {"x": value}]}, p)
    assert str(e.value) == (f"ts.save: obj['extra'][1]['x'] is of type {kind}, which a "
                            f"checkpoint cannot hold (tinyseq never pickles): it holds Tensors, "
                            f"numpy arrays, numbers, strings, bools, None, and dicts, lists and "
                            f"tuples of them")
    with pytest.raises(TypeError, match=rf"^ts.save: obj is of type {kind}, "):
        ts.save(value, p)
    assert list(tmp_path.iterdir()) == []


def test_loads_in_torch(tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from safetensors.torch import load_file
    want = _arrays()
    p = ts.save(want, tmp_path / "m.safetensors")
    got = load_file(str(p))
    assert set(got) == set(want)
    for k, a in want.items():
        assert isinstance(got[k], torch.Tensor)
        assert got[k].numpy().dtype == a.dtype, k
        assert tuple(got[k].shape) == a.shape, k
        np.testing.assert_array_equal(got[k].numpy(), a, err_msg=k)


def test_torch_to_tinyseq_round_trip(tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from safetensors.torch import load_file, save_file
    want = _arrays()
    p1 = ts.save(want, tmp_path / "a.safetensors")
    p2 = tmp_path / "b.safetensors"
    save_file(load_file(str(p1)), str(p2))  # tinyseq -> torch -> file
    _assert_same(ts.load(p2), dict(sorted(want.items())), kind=ts.Tensor)  # -> tinyseq
    sd = {"weight": torch.randn(3, 2), "bias": torch.zeros(2, dtype=torch.float64),
          "steps": torch.tensor(5), "mask": torch.tensor([True, False])}
    save_file(sd, str(p2))
    _assert_same(ts.load(p2), {k: sd[k].numpy() for k in sorted(sd)}, kind=ts.Tensor)


def test_missing_file(tmp_path):
    p = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        ts.load(p)


@pytest.mark.parametrize("cut", [1, 7, 50, "header"])
def test_truncated_file(tmp_path, cut):
    p = tmp_path / "m.safetensors"
    ts.save(_arrays(), p)
    data = p.read_bytes()
    p.write_bytes(data[:5] if cut == "header" else data[:-cut])
    with pytest.raises(ValueError, match=r"m\.safetensors.*not a valid safetensors checkpoint"):
        ts.load(p)
    with pytest.raises(tio.CheckpointError):
        ts.load(p)


@pytest.mark.parametrize("content", [b"", b"garbage" * 20, b"\xff" * 8 + b"{}",
                                     b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!"])
def test_garbage_file(tmp_path, content):
    p = tmp_path / "junk.safetensors"
    p.write_bytes(content)
    with pytest.raises(ValueError, match=r"junk\.safetensors.*not a valid safetensors"):
        ts.load(p)


class _Boom:
    def __reduce__(self):
        return (pathlib.Path.write_text, (_Boom.target, "pwned"))


def test_load_never_unpickles(tmp_path):
    _Boom.target = tmp_path / "pwned.txt"
    p = tmp_path / "evil.safetensors"
    p.write_bytes(pickle.dumps({"w": _Boom()}))
    with pytest.raises(ValueError, match=r"evil\.safetensors.*a PyTorch checkpoint \(torch"):
        ts.load(p)
    assert not _Boom.target.exists()  # the payload never ran


def _crash_after_half(f, data):
    f.write(data[: len(data) // 2])
    f.flush()
    raise OSError("disk full (simulated)")


def test_atomic_write_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "m.safetensors"
    old = {"a": np.arange(5, dtype=np.int64)}
    ts.save(old, p)
    before = p.read_bytes()
    monkeypatch.setattr(tio, "_write_all", _crash_after_half)
    with pytest.raises(OSError, match="disk full"):
        ts.save(_arrays(), p)
    assert p.read_bytes() == before
    _assert_same(ts.load(p), old)
    assert [q.name for q in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left


def test_atomic_write_interrupted_and_fsync_failure(tmp_path, monkeypatch):
    p = tmp_path / "m.safetensors"

    def interrupt(f, data):
        f.write(data[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(tio, "_write_all", interrupt)
    with pytest.raises(KeyboardInterrupt):
        ts.save({"a": np.ones(100)}, p)
    assert list(tmp_path.iterdir()) == []  # no final file and no temporary

    monkeypatch.undo()

    def bad_fsync(fd):
        raise OSError("fsync failed (simulated)")

    monkeypatch.setattr(tio.os, "fsync", bad_fsync)
    with pytest.raises(OSError, match="fsync"):
        ts.save({"a": np.ones(100)}, p)
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        ts.save({"a": np.ones(1)}, tmp_path / "no" / "such" / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


# ---- hostile inputs: every bad path, file or value is one clear error, and nothing is lost ----

def _header_file(path, header, data=b""):
    """Write a safetensors envelope by hand: 8-byte little-endian length, JSON header, data."""
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def test_load_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"ts.load: .* is a folder, not a checkpoint file"):
        ts.load(tmp_path)


def test_load_a_pipe_or_device_refuses_without_reading(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # reading it would hang forever
    for name in (fifo, "/dev/null"):
        with pytest.raises(tio.CheckpointError, match="is not a regular file"):
            ts.load(name)


def test_load_empty_file_says_empty(tmp_path):
    p = tmp_path / "e.safetensors"
    p.write_bytes(b"")
    with pytest.raises(tio.CheckpointError, match=r"'.*e\.safetensors' is not a valid .*empty"):
        ts.load(p)


@pytest.mark.parametrize("content, words", [
    (struct.pack("<Q", 2 ** 60) + b"{}", "header too large"),
    (struct.pack("<Q", 10 ** 6) + b"{}", "invalid header length"),
])
def test_load_huge_header_length(tmp_path, content, words):
    p = tmp_path / "h.safetensors"
    p.write_bytes(content)
    with pytest.raises(tio.CheckpointError, match=words):
        ts.load(p)


@pytest.mark.parametrize("meta", [{"a": 1}, ["a"], {"a": None}])
def test_load_non_str_metadata(tmp_path, meta):
    p = _header_file(tmp_path / "m.safetensors", {
        "__metadata__": meta, "x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
        b"\0" * 4)
    with pytest.raises(tio.CheckpointError, match="not a valid safetensors checkpoint"):
        ts.load(p)
    with pytest.raises(tio.CheckpointError, match="not a valid safetensors checkpoint"):
        ts.load(io.BytesIO(p.read_bytes()))


def test_load_bfloat16_names_the_dtype(tmp_path):
    p = _header_file(tmp_path / "b.safetensors",
                     {"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(tio.CheckpointError, match="tinyseq can read: data type .*not understood"
                       ".*convert such tensors to float32"):
        ts.load(p)
    with pytest.raises(tio.CheckpointError, match="tinyseq can read: data type .*not understood"):
        ts.load(io.BytesIO(p.read_bytes()))


def test_load_a_complex_entry_names_it(tmp_path):
    """safetensors stores complex64, which tinyseq's tensors cannot hold: one line names it."""
    import safetensors.numpy
    p = tmp_path / "c.safetensors"
    safetensors.numpy.save_file({"ok": np.ones(2), "z": np.array([1j], np.complex64)}, str(p))
    with pytest.raises(tio.CheckpointError, match=r"ts.load: entry 'z' of '.*c\.safetensors' is "
                                                  r"complex64, which tinyseq tensors cannot hold"):
        ts.load(p)
    assert tio.load_with_metadata(p)[0]["z"].dtype == np.complex64


def test_load_gives_tensors_on_their_own_writable_memory(tmp_path):
    """As torch.load of a saved state_dict: Tensors not requiring grad, writable, and two loads
    share nothing; a tensor that required grad still does, a leaf (as in PyTorch)."""
    w = ts.ones(2, 3, requires_grad=True)
    p = ts.save({"w": w.detach(), "leaf": w, "made": w * 2}, tmp_path / "m.safetensors")
    first, second = ts.load(p)["w"], ts.load(p)["w"]
    assert type(first) is ts.Tensor and not first.requires_grad and first.grad_fn is None
    first.add_(1)
    assert first.tolist() == [[2.0] * 3] * 2 and second.tolist() == [[1.0] * 3] * 2
    got = ts.load(p)
    for name in ("leaf", "made"):
        assert got[name].requires_grad and got[name].is_leaf and got[name].grad_fn is None
    assert got["made"].tolist() == [[2.0] * 3] * 2


def test_file_objects_round_trip(tmp_path):
    want = _arrays()
    buffer = io.BytesIO()
    assert ts.save(want, buffer, metadata={"k": "v"}) is buffer
    buffer.seek(0)
    _assert_same(ts.load(buffer), want)
    arrays, meta = tio.load_with_metadata(io.BytesIO(buffer.getvalue()))
    _assert_same(dict(sorted(arrays.items())), dict(sorted(want.items())))  # the app's way
    assert meta == {"k": "v"}
    p = tmp_path / "f.safetensors"
    with open(p, "wb") as f:
        ts.save(want, f)
    with open(p, "rb") as f:
        _assert_same(ts.load(f, map_location="cpu", weights_only=True), want)
    assert tio.load_with_metadata(p)[0].keys() == want.keys()
    assert tio.load_with_metadata(p)[1] == {}


def test_file_object_errors(tmp_path):
    p = ts.save({"a": np.ones(1)}, tmp_path / "a.safetensors")
    with open(p, encoding="latin-1") as f, pytest.raises(TypeError, match=r"binary mode \('rb'\)"):
        ts.load(f)
    with pytest.raises(tio.CheckpointError, match="'<file object>' is not a valid"):
        ts.load(io.BytesIO(b"junk"))
    with pytest.raises(TypeError, match="expected a path or a binary file object, got int"):
        ts.load(3)
    with pytest.raises(FileNotFoundError, match="no checkpoint file .*cannot hold a NUL"):
        ts.load(str(tmp_path / "a\0b"))


def test_load_options(tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    p = ts.save({"a": np.ones(1)}, tmp_path / "a.safetensors")
    assert ts.load(p, map_location=torch.device("cpu"))["a"].tolist() == [1.0]
    with pytest.raises(RuntimeError, match="ts.load: map_location: 'cuda' is a GPU"):
        ts.load(p, map_location="cuda")
    with pytest.raises(TypeError, match="weights_only must be None or a bool"):
        ts.load(p, weights_only="yes")


def test_save_refusals_write_nothing(tmp_path):
    p = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="ts.save: safetensors cannot store.*shorter names"):
        ts.save({"a" * (101 * 2 ** 20): np.ones(1)}, p)
    with pytest.raises(TypeError, match="metadata must be a dict"):
        ts.save({"a": np.ones(1)}, p, metadata=[("k", "v")])
    for path in ("", str(tmp_path / "a\0b")):
        with pytest.raises(FileNotFoundError, match="ts.save: cannot write .*: a path must be "
                                                    "non-empty and free of NUL characters"):
            ts.save({"a": np.ones(1)}, path)
    with open(p, "w") as f, pytest.raises(TypeError, match=r"binary mode \('wb'\)"):
        ts.save({"a": np.ones(1)}, f)
    p.unlink()
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_folder_names_target_and_folder(tmp_path):
    target = tmp_path / "no" / "m.safetensors"
    with pytest.raises(FileNotFoundError) as e:
        ts.save({"a": np.ones(1)}, target)
    message = str(e.value)
    assert f"cannot write {str(target)!r}" in message
    assert f"the folder {str(tmp_path / 'no')!r} does not exist" in message
    assert ".tmp" not in message and "\n" not in message


def test_save_onto_a_folder_or_below_a_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match=r"cannot write .*/d': that is a folder"):
        ts.save({"a": np.ones(1)}, tmp_path / "d")
    (tmp_path / "f").write_bytes(b"keep")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        ts.save({"a": np.ones(1)}, tmp_path / "f" / "m.safetensors")
    assert (tmp_path / "f").read_bytes() == b"keep"
    assert sorted(q.name for q in tmp_path.iterdir()) == ["d", "f"]


@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs mounted at ``tmp_path / "mnt"`` (skipped where mounting is not allowed)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and mount permission)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_disk_full_keeps_old_file_and_leaves_no_temporary(tiny_fs):
    p = tiny_fs / "m.safetensors"
    ts.save({"a": np.ones(4)}, p)
    before = p.read_bytes()
    with pytest.raises(OSError, match=r"ts.save: cannot write .*m\.safetensors': no space left "
                                      r"on the device.*existing file is unchanged") as e:
        ts.save({"a": np.ones(100_000)}, p)
    assert e.value.errno == errno.ENOSPC and "\n" not in str(e.value)
    assert p.read_bytes() == before
    assert [q.name for q in tiny_fs.iterdir()] == ["m.safetensors"]


def test_read_only_file_system_keeps_old_file(tiny_fs):
    p = tiny_fs / "m.safetensors"
    ts.save({"a": np.ones(4)}, p)
    before = p.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with pytest.raises(OSError, match=r"cannot write .*m\.safetensors': the file system is "
                                      r"read-only") as e:
        ts.save({"a": np.zeros(4)}, p)
    assert e.value.errno == errno.EROFS
    assert p.read_bytes() == before
    assert [q.name for q in tiny_fs.iterdir()] == ["m.safetensors"]


def test_saving_a_whole_module_is_refused_with_the_state_dict_way(tmp_path):
    """torch.save(model, f) pickles the model; tinyseq's files never hold code: one line says what
    to do instead, and nothing is written."""
    model = ts.nn.Sequential(ts.nn.Linear(2, 3))
    target = tmp_path / "model.pt"
    with pytest.raises(TypeError, match=r"^ts.save: a whole Sequential module cannot be saved .* "
                                        r"ts.save\(model.state_dict\(\), f\)"):
        ts.save(model, target)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    ts.save(model.state_dict(), target)
    fresh = ts.nn.Sequential(ts.nn.Linear(2, 3))
    fresh.load_state_dict(ts.load(target))
    assert np.array_equal(fresh[0].weight.numpy(), model[0].weight.numpy())


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy pickle"])
def test_a_file_torch_save_wrote_is_named_as_such(tmp_path, zipped):
    torch = pytest.importorskip("torch", reason="needs a file torch.save wrote")
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(ts.io.CheckpointError, match=r"is a PyTorch checkpoint \(torch.save's "
                       r"pickle\), which tinyseq cannot read: .*safetensors.torch.save_file"):
        ts.load(path)
