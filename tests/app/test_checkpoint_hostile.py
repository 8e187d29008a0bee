"""A language-model checkpoint with a valid safetensors envelope but damaged contents: every case
is one ``CheckpointError`` line naming the file and what is wrong, raised when the checkpoint is
opened (before anything is loaded), and the file is left as it was."""
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn, optim
from tinyseq.autograd.rng import generator
from tinyseq.data import Vocab
from tinyseq.io import CheckpointError, load_with_metadata
from tinyseq.models import CharLM
from tinyseq.app.checkpoint import FILE, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
CONFIG = dict(data="names", level="char", max_vocab=None, cell="lstm", hidden=6, layers=2,
              embedding=4, dropout=0.0, tie=False, batching="stream", seq_len=5, batch=3,
              steps=10, lr=0.01, clip=5.0, seed=0, save_every=5, time_limit=None,
              data_sha256="ab" * 32)  # a key the training loop may add: extra keys are fine


def _train_one_step(config=CONFIG):
    """A model, its Adam and the carried state after one step, as the training loop has them."""
    ts.manual_seed(0)
    model = CharLM(Vocab.build("emma\nava\nolivia"), config["hidden"], config["layers"],
                   config["cell"], config["embedding"] or None, config["dropout"], config["tie"])
    adam = optim.Adam(model.parameters(), lr=config["lr"])
    ids = np.arange(15).reshape(5, 3) % len(model.vocab)
    logits, state = model(ids)
    nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1)).backward()
    adam.step()
    state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return model, adam, state


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A valid checkpoint folder (written once) and its model, optimiser and state."""
    folder = tmp_path_factory.mktemp("good")
    model, adam, state = _train_one_step()
    save_checkpoint(folder, model, CONFIG, 1, adam, state, [2.5])
    return folder, model, adam, state


def _damaged(good, tmp_path, change):
    """A copy of the good checkpoint whose arrays and header ``change(arrays, meta)`` edited,
    saved as a valid safetensors file."""
    arrays, meta = load_with_metadata(good[0] / FILE)
    change(arrays, meta)
    ts.save(arrays, tmp_path / FILE, metadata=meta)
    return tmp_path


def _rewrite_header(path, change):
    """Edit the JSON header of the safetensors file at ``path`` in place (the data unchanged)."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    change(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])


def _set(key, value):
    return lambda arrays, meta: meta.__setitem__(key, value)


def _config(**changes):
    return _set("config", json.dumps({**CONFIG, **changes}))


def _vocab(tokens, level="char"):
    return _set("vocab", json.dumps({"format": 1, "level": level, "tokens": tokens}))


def _array(key, value):
    def change(arrays, meta):
        arrays[key] = value(arrays[key]) if callable(value) else value
    return change


def _drop(key):
    return lambda arrays, meta: (arrays.pop(key, None), meta.pop(key, None))


TOKENS = Vocab.build("emma\nava\nolivia").tokens[4:]
HEAD = "model/head.weight"
DAMAGE = {
    "step not a number": (_set("step", "ten"), "step 'ten' is not a whole number"),
    "step negative": (_set("step", "-1"), "step '-1' is not a whole number >= 0"),
    "step float": (_set("step", "1.5"), "step '1.5' is not a whole number"),
    "config not JSON": (_set("config", "{hidden: 6"), "'config' entry is not JSON"),
    "config a list": (_set("config", "[6, 2]"), "config is a list, not a JSON object"),
    "config without cell": (lambda a, m: m.__setitem__("config", json.dumps(
        {k: v for k, v in CONFIG.items() if k != "cell"})), "config has no 'cell'"),
    "hidden a string": (_config(hidden="6"), "config 'hidden' is '6'; it must be an int >= 1"),
    "hidden a bool": (_config(hidden=True), "config 'hidden' is True; it must be an int"),
    "hidden huge": (_config(hidden=10 ** 9), "need at least 2,000,000,011,000,000,044 "
                                             "weights, but the file holds 745"),
    "hidden other size": (_config(hidden=5), "model/.* is float32 \\(.*\\), but the config "
                                             "\\(hidden=5"),
    "layers huge": (_config(hidden=1, embedding=1, layers=10 ** 6), "need at least 1,000,"),
    "layers many": (_config(hidden=1, embedding=1, layers=400), "config has 400 layers, but the "
                                                                "file holds only 11 weight arrays"),
    "layers zero": (_config(layers=0), "config 'layers' is 0; it must be an int >= 1"),
    "unknown cell": (_config(cell="transformer"), "config 'cell' is 'transformer'; it must be "
                                                  "one of rnn, gru, lstm"),
    "other cell": (_config(cell="gru"), "model/rnn.weight_ih_l0 is float32 \\(24, 4\\), but "
                                        ".*need float32 \\(18, 4\\)"),
    "dropout NaN": (_set("config", json.dumps(CONFIG).replace('"dropout": 0.0',
                                                              '"dropout": NaN')),
                    "config 'dropout' is nan; it must be a number in \\[0, 1\\)"),
    "embedding negative": (_config(embedding=-1), "config 'embedding' is -1"),
    "tie needs equal sizes": (_config(tie=True), "config cannot build a model \\(CharLM: "
                                                 "tie_weights needs"),
    "level differs": (_config(level="word"), "config 'level' is 'word' but the vocabulary is "
                                             "char-level"),
    "vocab not JSON": (_set("vocab", "{tokens"), "'vocab' entry is not JSON"),
    "vocab a list": (_set("vocab", json.dumps(TOKENS)), "vocabulary is not valid.*expected a "
                                                        "dict"),
    "vocab duplicate": (_vocab(TOKENS[:-1] + TOKENS[:1]), "vocabulary is not valid.*distinct"),
    "vocab one short": (_vocab(TOKENS[:-1]), "model/embedding.weight is float32 \\(11, 4\\), "
                                             "but .*\\(10 tokens\\) need float32 \\(10, 4\\)"),
    "vocab multi-char": (_vocab(TOKENS[:-1] + ["ab"]), "must be one character, got 'ab'"),
    "vocab missing": (_drop("vocab"), "its header has no 'vocab' entry"),
    "rng not JSON": (_set("rng", "{state"), "'rng' entry is not JSON"),
    "rng not a state": (_set("rng", '{"bit_generator": "PCG64"}'), "rng is not a state of "
                                                                   "numpy's PCG64"),
    "rng other generator": (_set("rng", json.dumps(np.random.PCG64DXSM(0).state)),
                            "rng is not a state of numpy's PCG64"),
    "rng null": (_set("rng", "null"), "rng is not a state"),
    "kind missing": (_drop("kind"), None),
    "transposed tensor": (_array(HEAD, lambda a: a.T.copy()), "model/head.weight is float32 "
                                                              "\\(6, 11\\), but"),
    "missing tensor": (_drop(HEAD), "missing \\['model/head.weight'\\], extra \\[\\]"),
    "extra model key": (_array("model/head.extra", np.ones(2, np.float32)),
                        "missing \\[\\], extra \\['model/head.extra'\\]"),
    "float64 weight": (_array(HEAD, lambda a: a.astype(np.float64)),
                       "model/head.weight is float64 \\(11, 6\\), but .* need float32"),
    "float16 weight": (_array(HEAD, lambda a: a.astype(np.float16)),
                       "model/head.weight is float16"),
    "NaN weight": (_array("model/rnn.bias_hh_l1", lambda a: np.where(a == a[0], np.nan, a)),
                   "model/rnn.bias_hh_l1 holds NaN or infinite values"),
    "Inf weight": (_array(HEAD, lambda a: np.where(a > 0, np.float32(np.inf), a)),
                   "model/head.weight holds NaN or infinite values"),
    "unknown array": (_array("junk", np.ones(1)), "1 unexpected array\\(s\\): \\['junk'\\]"),
    "index with a zero": (_array("optim/01/step", np.array(1)), "unexpected array\\(s\\): "
                                                                "\\['optim/01/step'\\]"),
    "optim for no parameter": (_array("optim/99/exp_avg", np.ones(1, np.float32)),
                               "optim/99/exp_avg is for parameter 99, but the model has 11"),
    "optim wrong shape": (_array("optim/0/exp_avg", lambda a: a.T.copy()),
                          "optim/0/exp_avg is float32 \\(4, 11\\), but parameter 0 is"),
    "optim step negative": (_array("optim/3/step", np.array(-2)), "optim/3/step is int64 -2"),
    "optim step float negative": (_array("optim/3/step", np.float32(-1)),
                                  "optim/3/step is float32 -1.0; it must be a step count"),
    "optim step fractional": (_array("optim/0/step", np.float32(1.5)), "optim/0/step is float32 "
                                                                        "1.5"),
    "optim step NaN": (_array("optim/0/step", np.float32(np.nan)), "optim/0/step is float32 nan"),
    "optim NaN": (_array("optim/1/exp_avg_sq", lambda a: a * np.nan),
                  "optim/1/exp_avg_sq holds NaN"),
    "optim entries differ": (_drop("optim/2/exp_avg"), "different entries for different "
                                                       "parameters"),
    "optim groups not a list": (_set("optim_groups", '{"lr": 0.01}'),
                                "optim_groups .* is not a list of options"),
    "optim lr a string": (_set("optim_groups", '[{"lr": "fast", "betas": [0.9, 0.99]}]'),
                          "is not a list of options"),
    "optim option an object": (_set("optim_groups", '[{"lr": 0.1, "foreach": {"a": 1}}]'),
                               "is not a list of options"),
    "optim state, no groups": (_set("optim_groups", "null"),
                               "holds optimiser state \\(optim/.*\\) but no optimiser options"),
    "state structure": (_set("state", '"t"'), "state entry '\"t\"' is not the structure of a "
                                              "lstm's state \\(\\[\"t\", \"t\"\\]\\)"),
    "state null with arrays": (_set("state", "null"), "holds 2 state array\\(s\\) but its state "
                                                      "entry is null"),
    "state array missing": (_drop("state/1"), "state arrays are not state/0 to state/1"),
    "state wrong batch": (_array("state/0", lambda a: a[:, :2].copy()),
                          "state/0 is float32 \\(2, 2, 6\\), but it must have float32 "
                          "\\(2, 3, 6\\)"),
    "state not JSON": (_set("state", "[t, t]"), "'state' entry is not JSON"),
    "losses missing": (_drop("losses"), "it has no 'losses' array"),
    "losses 2-d": (_array("losses", np.ones((1, 1), np.float32)), "losses is float32 \\(1, 1\\)"),
    "losses too many": (_array("losses", np.ones(5, np.float32)), "at most 1"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_checkpoint_is_one_clear_error(good, tmp_path, case):
    change, words = DAMAGE[case]
    folder = _damaged(good, tmp_path, change)
    before = (folder / FILE).read_bytes()
    rng_before = generator().bit_generator.state
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(folder)
    message = str(e.value)
    assert "\n" not in message and str(folder / FILE) in message
    if words is None:
        assert "is not a tinyseq language-model checkpoint" in message
    else:
        assert "is damaged: " in message
        assert re.search(words, message), message
    assert (folder / FILE).read_bytes() == before
    assert generator().bit_generator.state == rng_before


@pytest.mark.parametrize("dtype", ["I32", "U32", "F16"])
def test_header_edited_dtype_is_refused(good, tmp_path, dtype):
    """F32 -> I32 keeps the envelope valid (same size): the check against the model catches it;
    F16 (half the size) is caught by the envelope check."""
    path = tmp_path / FILE
    path.write_bytes((good[0] / FILE).read_bytes())
    _rewrite_header(path, lambda h: h[HEAD].__setitem__("dtype", dtype))
    with pytest.raises(CheckpointError, match=r"model/head\.weight is u?int32 \(11, 6\), but .* "
                       r"need float32|not a valid safetensors checkpoint"):
        load_checkpoint(tmp_path)


def test_a_good_checkpoint_restores_everything(good):
    folder, model, adam, state = good
    arrays, meta = load_with_metadata(folder / FILE)
    assert arrays["optim/0/step"].dtype == np.float32 and arrays["optim/0/step"] == 1  # torch's
    assert json.loads(meta["optim_groups"])[0]["foreach"] is None
    saved = load_checkpoint(folder)
    assert saved.config == CONFIG and saved.step == 1 and saved.losses == [2.5]
    assert saved.vocab == model.vocab
    ts.manual_seed(5)  # other weights than the saved ones
    other = saved.model()
    for name, a in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], a, err_msg=name)
    fresh = optim.Adam(other.parameters(), lr=0.5)
    saved.load_optimizer(fresh)
    want, got = adam.state_dict(), fresh.state_dict()
    assert got["param_groups"] == want["param_groups"]
    for i, s in want["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(got["state"][i][k], v, err_msg=f"{i}/{k}")
    for a, b in zip(saved.state(), state):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("cell, batching", [("gru", "lines"), ("rnn", "stream")])
def test_other_cells_and_no_state_load(tmp_path, cell, batching):
    config = {**CONFIG, "cell": cell, "batching": batching, "embedding": 0, "tie": False}
    model, adam, state = _train_one_step(config)
    save_checkpoint(tmp_path, model, config, 1, adam, None if batching == "lines" else state,
                    [1.0])
    saved = load_checkpoint(tmp_path)
    assert saved.state() is None if batching == "lines" else saved.state().shape == (2, 3, 6)


def test_optimiser_options_that_do_not_fit(good, tmp_path):
    saved = load_checkpoint(good[0])
    model = saved.model()
    with pytest.raises(CheckpointError, match=r"holds optimiser options without SGD's "
                                              r"\['dampening', 'momentum', 'nesterov'\]: it was "
                                              r"saved with another optimiser or is damaged"):
        saved.load_optimizer(optim.SGD(model.parameters(), lr=0.1))
    two = optim.Adam([{"params": [model.head.weight]}, {"params": [model.head.bias]}])
    with pytest.raises(CheckpointError, match="has 1 optimiser parameter group.*Adam has 2"):
        saved.load_optimizer(two)
    bad = _damaged(good, tmp_path, _set("optim_groups", '[{"lr": 0.01, "betas": [0.9, 1.5], '
                                                        '"eps": 1e-8, "weight_decay": 0}]'))
    adam = optim.Adam(model.parameters())
    before = adam.state_dict()
    with pytest.raises(CheckpointError, match=r"is damaged: Adam: invalid betas\[1\] 1\.5"):
        load_checkpoint(bad).load_optimizer(adam)
    assert adam.state_dict() == before
    bare = tmp_path / "bare"
    bare.mkdir()
    save_checkpoint(bare, model, CONFIG, 0)
    with pytest.raises(CheckpointError, match="holds no optimiser state"):
        load_checkpoint(bare).load_optimizer(adam)


def test_options_a_newer_tinyseq_adds_or_an_older_lacked_load(good, tmp_path):
    """A group with an option this tinyseq does not know (a newer one wrote it) loads and keeps it;
    one without the options tinyseq added later (amsgrad, foreach, ...) loads with the
    optimiser's values of them."""
    def change(arrays, meta):
        groups = json.loads(meta["optim_groups"])
        groups[0] = {k: v for k, v in groups[0].items() if k not in ("foreach", "amsgrad")}
        meta["optim_groups"] = json.dumps([{**groups[0], "lookahead": 0.5}])
    saved = load_checkpoint(_damaged(good, tmp_path, change))
    adam = saved.load_optimizer(optim.Adam(saved.model().parameters(), foreach=False))
    group = adam.param_groups[0]
    assert group["lookahead"] == 0.5 and group["foreach"] is False and group["amsgrad"] is False
    assert group["lr"] == CONFIG["lr"] and adam.state_dict()["state"][0]["step"].item() == 1.0


# ---- folders -----------------------------------------------------------------------------------

@pytest.mark.parametrize("leftovers", [[], [".checkpoint.safetensors.x1y2.tmp"],
                                       [".vocab.json.ab.tmp", ".loss.csv.cd.tmp"]])
def test_a_run_killed_before_its_first_checkpoint(tmp_path, leftovers):
    for name in leftovers:
        (tmp_path / name).write_bytes(b"half")
    with pytest.raises(CheckpointError, match=r"has no checkpoint\.safetensors yet: the run into "
                       r"it probably stopped before saving its first checkpoint; start a fresh "
                       r"run \(tinyseq train --out .*, without --resume\)"):
        load_checkpoint(tmp_path)


def test_folders_that_are_not_training_folders(good, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="has no checkpoint.safetensors: it is not a "
                                              "tinyseq training folder"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="is a file, not a training folder"):
        load_checkpoint(tmp_path / "notes.txt")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / FILE).mkdir()
    with pytest.raises(CheckpointError, match="is not a file"):
        load_checkpoint(tmp_path / "run")
    with pytest.raises(CheckpointError, match="give the folder that holds it"):
        load_checkpoint(good[0] / FILE)
    with pytest.raises(CheckpointError, match="folder name is empty"):
        load_checkpoint("")


def test_broken_envelope_is_a_checkpoint_error(good, tmp_path):
    (tmp_path / FILE).write_bytes((good[0] / FILE).read_bytes()[:-3])
    with pytest.raises(CheckpointError, match=r"checkpoint: .* is not a valid safetensors"):
        load_checkpoint(tmp_path)


def test_command_line_refuses_in_one_line(good, tmp_path):
    folder = _damaged(good, tmp_path, _config(hidden="six"))
    before = (folder / FILE).read_bytes()
    run = subprocess.run([sys.executable, "-m", "tinyseq", "sample", str(folder)],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "is damaged: config 'hidden' is 'six'; it must be an int >= 1" in run.stderr
    assert (folder / FILE).read_bytes() == before
