"""ts.data under careless or hostile input: every bad argument is refused in one line that names
the function, the value and the fix, and nothing is silently wrong (issue 13)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.data import LMStream, Vocab, batches, corpus, pad_batch

V = Vocab.build("hello world")
W = Vocab.build("the cat the dog", level="word")


def one_line(error):
    assert "\n" not in str(error.value)
    return str(error.value)


@pytest.mark.parametrize("kwargs, words", [
    (dict(max_size=True), "max_size must be an int >= 0 or None, got True"),
    (dict(max_size=1.5), "max_size must be an int >= 0 or None, got 1.5"),
    (dict(min_freq=2.0), "min_freq must be an int >= 1, got 2.0"),
])
def test_build_refuses_sizes_that_are_not_ints(kwargs, words):
    with pytest.raises(ValueError, match="Vocab.build: " + words) as e:
        Vocab.build("aab", **kwargs)
    one_line(e)


def test_build_takes_numpy_ints_as_sizes():
    assert Vocab.build("aab", max_size=np.int64(1)).tokens[4:] == ["a"]
    assert Vocab.build("aab", min_freq=np.int32(2)).tokens[4:] == ["a"]


@pytest.mark.parametrize("call", [V.encode, V.encode_lines, V.unknown, W.encode])
@pytest.mark.parametrize("text", [None, 5, b"he", ["h", "e"]])
def test_text_methods_refuse_what_is_not_a_str(call, text):
    # bytes used to encode as [<unk>, <unk>] without a word
    with pytest.raises(TypeError, match=f"text must be a str, got {type(text).__name__}") as e:
        call(text)
    one_line(e)


@pytest.mark.parametrize("flags", [dict(add_bos=2), dict(add_eos=-1), dict(add_bos="yes")])
def test_encode_flags_are_booleans(flags):
    # add_bos=2 used to give two <bos>, add_eos=-1 none at all
    with pytest.raises(TypeError, match="Vocab.encode: add_bos and add_eos must be True or False"):
        V.encode("he", **flags)
    assert V.encode("h", add_bos=np.bool_(True), add_eos=1) == [2, V["h"], 3]


@pytest.mark.parametrize("ids, error, words", [
    ([-1], ValueError, "id -1 is out of range: this vocabulary has ids 0 to 11"),
    (np.array([2 ** 63 + 5], dtype=np.uint64), ValueError,
     "id 9223372036854775813 is out of range"),  # used to wrap to a negative id
    ([[4], [5, 6]], ValueError, "ids must be a flat sequence of ints, got a ragged"),
    ("45", TypeError, "got the str '45'; the ids of a text are vocab.encode"),
    ([4.0], TypeError, "ids must be integers, got dtype float64"),
    ([None], TypeError, "got dtype object"),
])
def test_decode_refuses_bad_ids(ids, error, words):
    with pytest.raises(error, match="Vocab.decode: .*" + words) as e:
        V.decode(ids)
    one_line(e)


def test_decode_takes_every_kind_of_int_sequence():
    torch = pytest.importorskip("torch", reason="torch compares the tensor input")
    expected = V.decode([V["l"], V["o"]])
    for ids in (np.array([V["l"], V["o"]], dtype=np.uint8), ts.tensor([V["l"], V["o"]]),
                torch.tensor([V["l"], V["o"]])):
        assert V.decode(ids) == expected


def test_one_hot_and_id_to_token_name_themselves():
    with pytest.raises(ValueError, match="Vocab.one_hot: id 18446744073709551615 is out of"):
        V.one_hot(np.array([2 ** 64 - 1], dtype=np.uint64))
    with pytest.raises(ValueError, match="Vocab.id_to_token: id 12 is out of range"):
        V.id_to_token(12)
    with pytest.raises(TypeError, match="Vocab.id_to_token: an id is an int, got float 1.0"):
        V.id_to_token(1.0)


def test_getitem_takes_tokens_only():
    # V[4] used to answer 1 (<unk>) as if 4 were an unknown token
    with pytest.raises(TypeError, match=r"Vocab\[token\]: a token is a str, got int 4; the "
                                        r"token of an id is vocab.id_to_token\(id\)"):
        V[4]
    with pytest.raises(TypeError, match="got list"):
        V[["h"]]
    assert ["h"] not in V and 4 not in V and "h" in V


@pytest.mark.parametrize("tokens, level", [("the cat", "word"), (None, "char"), (5, "char")])
def test_constructor_wants_a_list_of_tokens(tokens, level):
    with pytest.raises(TypeError, match="Vocab: tokens must be a list of str, got .*use "
                                        r"Vocab.build\(text\)"):
        Vocab(tokens, level)
    assert Vocab("abc").tokens[4:] == ["a", "b", "c"]  # characters in the order given


def test_save_refuses_bad_paths_naming_the_target(tmp_path):
    (tmp_path / "file").write_text("x")
    cases = [(None, TypeError, "path must be a str or a pathlib.Path, got NoneType"),
             ("", ValueError, "the path is empty"),
             (tmp_path / "no" / "v.json", FileNotFoundError, "folder .*no' does not exist"),
             (tmp_path / "file" / "v.json", NotADirectoryError, "file' is a file, not a folder"),
             (tmp_path, IsADirectoryError, "that is a folder")]
    for path, error, words in cases:
        with pytest.raises(error, match="Vocab.save: .*" + words) as e:
            V.save(path)
        assert ".tmp" not in one_line(e)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_save_turns_os_errors_into_one_line(tmp_path, monkeypatch):
    def full(f, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("tinyseq.io._write_all", full)
    with pytest.raises(OSError, match=r"Vocab.save: cannot write .*v.json.: no space left"):
        V.save(tmp_path / "v.json")


def test_load_refuses_what_is_not_a_vocabulary_file(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    os.mkfifo(tmp_path / "pipe.json")  # reading it would wait for a writer forever
    for path, words in [(tmp_path / "deep.json", "nested too deeply"),
                        (tmp_path / "pipe.json", "folder, pipe or device"),
                        ("/dev/null", "folder, pipe or device")]:
        with pytest.raises(ValueError, match="Vocab.load: .* is not a tinyseq vocabulary file"
                                             ".*" + words) as e:
            Vocab.load(path)
        one_line(e)
    with pytest.raises(TypeError, match="Vocab.load: path must be a str"):
        Vocab.load(None)
    with pytest.raises(ValueError, match="Vocab.load: the path is empty"):
        Vocab.load("")


def test_load_of_a_damaged_file_names_what_is_wrong(tmp_path):
    path = tmp_path / "v.json"
    for content, words in [({"format": 1, "level": "char", "tokens": [{}]}, "non-empty strings"),
                           ({"format": 1, "level": "char", "tokens": ["a", "a"]}, "distinct"),
                           ({"format": 2, "level": "char", "tokens": []}, "'format' must be 1")]:
        path.write_text(json.dumps(content))
        with pytest.raises(ValueError, match="not a tinyseq vocabulary file.*" + words):
            Vocab.load(path)


@pytest.mark.parametrize("value, error, words", [
    (2.0, TypeError, "batch_size must be an int, got float 2.0"),
    (None, TypeError, "batch_size must be an int, got NoneType"),
    (True, TypeError, "batch_size must be an int, got bool"),
    (0, ValueError, "batch_size must be at least 1, got 0"),
])
def test_lmstream_sizes(value, error, words):
    with pytest.raises(error, match="LMStream: " + words):
        LMStream(np.arange(11), value, 3)
    assert LMStream(np.arange(11), np.int64(2), 3).batch_size == 2


def test_lmstream_ids_and_windows():
    with pytest.raises(ValueError, match="LMStream: ids must be a flat sequence of ints"):
        LMStream([[1], [2, 3]], 1, 1)
    with pytest.raises(ValueError, match="LMStream: id 9223372036854775809 is out of range"):
        LMStream(np.full(5, 2 ** 63 + 1, dtype=np.uint64), 1, 2)  # used to wrap silently
    with pytest.raises(TypeError, match="LMStream.window: k must be an int, got float 1.5"):
        LMStream(np.arange(11), 2, 3).window(1.5)


@pytest.mark.parametrize("sequences, error, words", [
    (None, TypeError, "sequences must be a list of id sequences, got NoneType"),
    ("abc", TypeError, "sequences must be a list of id sequences, got str"),
    ([[1], "ab"], TypeError, "sequence 1: ids must be integers, got the str 'ab'"),
    ([1, 2], ValueError, "sequence 0: expected a 1-D sequence of ids, got shape ()"),
])
def test_pad_batch_sequences(sequences, error, words):
    with pytest.raises(error, match="pad_batch: " + words.replace("(", r"\(").replace(")", r"\)")):
        pad_batch(sequences)


@pytest.mark.parametrize("pad_id, error", [(0.5, TypeError), ("x", TypeError), (None, TypeError),
                                           (2 ** 70, ValueError)])
def test_pad_batch_pad_id_is_an_int(pad_id, error):
    # 0.5 used to pad with 0 without a word
    with pytest.raises(error, match="pad_batch: pad_id"):
        pad_batch([[1], [2, 3]], pad_id=pad_id)
    assert pad_batch([[1], [2, 3]], pad_id=-100)[0][1, 0] == -100  # targets for ignore_index


def test_batches_arguments():
    with pytest.raises(ValueError, match="batches: n must be at least 0, got -1"):
        batches(-1, 2)
    with pytest.raises(TypeError, match="batches: n must be an int, got float"):
        batches(5.0, 2)
    with pytest.raises(TypeError, match="batches: rng must be a numpy.random.Generator or None, "
                                        "got int"):
        batches(5, 2, rng=3)
    with pytest.raises(MemoryError, match="batches: n=1000000000000000 indices need"):
        batches(10 ** 15, 2)
    assert list(batches(0, 2)) == []


def test_corpus_of_an_unknown_name():
    for name in (["names"], None, "Names"):
        with pytest.raises(ValueError, match="corpus: unknown corpus .*; choose one of "
                                             r"\['names', 'shakespeare'\]"):
            corpus(name)


def _overcommits():
    try:
        return Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1"
    except OSError:
        return False


@pytest.mark.skipif(_overcommits(), reason="vm.overcommit_memory=1: numpy would be given the "
                                           "terabytes and the machine run out of memory later")
def test_what_cannot_fit_in_memory_is_refused_naming_the_function():
    many = Vocab([str(i) for i in range(50_000)], level="word")
    with pytest.raises(MemoryError, match=r"Vocab.one_hot: 10000000 one-hot vectors of 50004 "
                                          r"floats need .* GiB, more memory than there is"):
        many.one_hot(np.full(10 ** 7, 4, dtype=np.uint8))
    endless = np.broadcast_to(np.int64(1), (10 ** 12,))  # a view: no memory of its own
    with pytest.raises(MemoryError, match="pad_batch: 2 sequences padded to the longest, "
                                          "1000000000000 ids, need .* GiB"):
        pad_batch([endless, [1]])


def test_a_vocabulary_with_a_lone_surrogate_saves_and_loads(tmp_path):
    # text read with errors="surrogateescape" has them; saving used to raise UnicodeEncodeError
    v = Vocab.build("a\udcffb")
    assert Vocab.load(v.save(tmp_path / "v.json")) == v
