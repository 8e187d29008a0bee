"""ts.save / ts.load: safetensors round trips, PyTorch interchange, clear errors, atomic writes."""
import os
import pathlib
import pickle

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


def _assert_same(got, want):
    assert set(got) == set(want)
    for k in want:
        assert isinstance(got[k], np.ndarray), k
        assert got[k].dtype == want[k].dtype, k
        assert got[k].shape == want[k].shape, k
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_round_trip_dtypes_and_shapes(tmp_path):
    want = _arrays()
    p = tmp_path / "m.safetensors"
    assert ts.save(want, p) == p
    _assert_same(ts.load(p), want)
    _assert_same(ts.load(str(p)), want)  # str paths too


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
    assert got["tensor"].dtype == t.data.dtype
    np.testing.assert_array_equal(got["tensor"], t.data)
    assert got["int_tensor"].dtype == ts.tensor([1, 2, 3]).data.dtype
    np.testing.assert_array_equal(got["int_tensor"], [1, 2, 3])
    np.testing.assert_array_equal(got["list"], [1.0, 2.0])


def test_metadata_is_stored(tmp_path):
    from safetensors import safe_open
    p = ts.save({"a": np.ones(1)}, tmp_path / "m.safetensors", metadata={"step": "7"})
    with safe_open(str(p), framework="numpy") as f:
        assert f.metadata() == {"step": "7"}
    with pytest.raises(TypeError, match="metadata"):
        ts.save({"a": np.ones(1)}, tmp_path / "n.safetensors", metadata={"step": 7})


@pytest.mark.parametrize("key", [3, ("a", 1), None])
def test_non_string_key_refused(tmp_path, key):
    p = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match=r"key .*must be strings") as e:
        ts.save({"ok": np.ones(1), key: np.ones(1)}, p)
    assert repr(key) in str(e.value)
    assert not p.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.array([object(), 1], dtype=object),
                                   np.array([1 + 2j]), np.array(["2020-01-01"], "datetime64[D]")])
def test_non_numeric_dtype_refused(tmp_path, value):
    p = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match=r"entry 'bad' has dtype"):
        ts.save({"ok": np.ones(1), "bad": value}, p)
    assert list(tmp_path.iterdir()) == []


def test_not_a_dict_refused(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        ts.save([np.ones(1)], tmp_path / "m.safetensors")


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
    _assert_same(ts.load(p2), want)  # -> tinyseq
    sd = {"weight": torch.randn(3, 2), "bias": torch.zeros(2, dtype=torch.float64),
          "steps": torch.tensor(5), "mask": torch.tensor([True, False])}
    save_file(sd, str(p2))
    _assert_same(ts.load(p2), {k: v.numpy() for k, v in sd.items()})


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
    with pytest.raises(ValueError, match=r"evil\.safetensors.*not a valid safetensors"):
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
