"""A tied CharLM's checkpoint (``tie_weights``: the output layer is the embedding): written with the
tied weight under both its names, as PyTorch's state_dict lists it; a checkpoint written before that
(the weight once, under ``embedding.weight``) still loads; two copies that differ are refused."""
import shutil
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn, optim
from tinyseq.app.checkpoint import FILE, load_checkpoint, save_checkpoint
from tinyseq.data import Vocab
from tinyseq.io import CheckpointError, load_with_metadata
from tinyseq.models import CharLM

# Written by the app before tied weights had two names (main at dbcb370): a GRU CharLM, hidden 4,
# embedding 4, tied, after one Adam step; its file holds model/embedding.weight, no head.weight.
OLD = Path(__file__).parent / "data" / "old_tied"
CONFIG = dict(data="names", level="char", max_vocab=None, cell="gru", hidden=4, layers=1,
              embedding=4, dropout=0.0, tie=True, batching="stream", seq_len=5, batch=3,
              steps=10, lr=0.01, clip=5.0, seed=0, save_every=5, time_limit=None)


def _tied_model_after_a_step():
    ts.manual_seed(0)
    model = CharLM(Vocab.build("emma\nava\nolivia"), 4, 1, "gru", 4, 0.0, True)
    adam = optim.Adam(model.parameters(), lr=0.01)
    ids = np.arange(15).reshape(5, 3) % len(model.vocab)
    logits, state = model(ids)
    nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1)).backward()
    adam.step()
    return model, adam, state.detach()


def _assert_tied_and_equal(model, weights):
    assert model.head.weight is model.embedding.weight
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), weights[name], err_msg=name)


def test_a_tied_checkpoint_holds_both_names_and_loads_tied(tmp_path):
    model, adam, state = _tied_model_after_a_step()
    save_checkpoint(tmp_path, model, CONFIG, 1, adam, state, [2.5])
    arrays, _ = load_with_metadata(tmp_path / FILE)
    assert sorted(k for k in arrays if k.startswith("model/")) == sorted(
        f"model/{k}" for k in model.state_dict())
    np.testing.assert_array_equal(arrays["model/head.weight"], arrays["model/embedding.weight"])
    saved = load_checkpoint(tmp_path)
    ts.manual_seed(7)  # other weights than the saved ones
    _assert_tied_and_equal(saved.model(), {k: v.numpy() for k, v in model.state_dict().items()})


def test_a_checkpoint_written_before_ties_had_two_names_still_loads(tmp_path):
    arrays, _ = load_with_metadata(OLD / FILE)
    assert "model/embedding.weight" in arrays and "model/head.weight" not in arrays  # the old set
    saved = load_checkpoint(OLD)
    assert saved.config["tie"] and saved.step == 1 and saved.losses == [2.5]
    model = saved.model()
    want = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    _assert_tied_and_equal(model, {**want, "head.weight": want["embedding.weight"]})
    adam = optim.Adam(model.parameters(), lr=0.01)
    saved.load_optimizer(adam)  # its state is numbered by parameters(), which did not change
    for i, p in enumerate(model.parameters()):
        np.testing.assert_array_equal(adam.state_dict()["state"][i]["exp_avg"],
                                      arrays[f"optim/{i}/exp_avg"])
    assert arrays["optim/0/step"].dtype == np.int64  # the int step of then loads as torch's
    assert adam.state_dict()["state"][0]["step"].dtype == ts.float32
    assert adam.state_dict()["state"][0]["step"].item() == 1.0
    with pytest.raises(CheckpointError, match=r"does not fit this Adam: Adam.load_state_dict: "
                                              r"the state of parameter 0 has no max_exp_avg_sq"):
        saved.load_optimizer(optim.Adam(model.parameters(), amsgrad=True))
    shutil.copytree(OLD, tmp_path / "again")  # and it is saved again in the new set
    save_checkpoint(tmp_path / "again", model, saved.config, 2, adam, saved.state(), [2.5, 2.4])
    assert "model/head.weight" in load_with_metadata(tmp_path / "again" / FILE)[0]


def test_two_copies_of_a_tied_weight_that_differ_are_refused(tmp_path):
    model, adam, state = _tied_model_after_a_step()
    save_checkpoint(tmp_path, model, CONFIG, 1, adam, state, [2.5])
    arrays, meta = load_with_metadata(tmp_path / FILE)
    arrays["model/head.weight"] = arrays["model/head.weight"] + 1
    ts.save(arrays, tmp_path / FILE, metadata=meta)
    with pytest.raises(CheckpointError, match=r"is damaged: model/head.weight and "
                                              r"model/embedding.weight are one tied weight, but "
                                              r"the file holds different values for them"):
        load_checkpoint(tmp_path)
