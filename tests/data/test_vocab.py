"""ts.data.Vocab: building, encoding and decoding, the language-model stream, one-hot vectors,
files and their errors."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinyseq as ts
from tinyseq.data import Vocab


def test_special_ids_are_fixed():
    v = Vocab.build("xyz")
    assert v.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] == list(Vocab.SPECIALS)
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    assert [v[t] for t in (v.PAD, v.UNK, v.BOS, v.EOS)] == [0, 1, 2, 3]


def test_build_orders_by_frequency_then_token():
    v = Vocab.build("ccc bb a dd\n")
    assert v.tokens[4:] == [" ", "c", "b", "d", "a"]  # 3,3 then 2,2 then 1; newline not a token
    assert v["c"] == 5 and v["a"] == 8
    assert Vocab.build("ccc bb a dd\n") == v


def test_build_is_independent_of_first_appearance():
    assert Vocab.build("zyx").tokens == Vocab.build("xyz").tokens
    assert Vocab.build("zyx").tokens[4:] == ["x", "y", "z"]


def test_max_size_keeps_the_most_frequent():
    v = Vocab.build("a b b c c c d d d d", level="word", max_size=2)
    assert v.tokens[4:] == ["d", "c"] and len(v) == 6
    assert v.encode("a b c d") == [v.unk_id, v.unk_id, 5, 4]
    assert len(Vocab.build("abc", max_size=0)) == 4


def test_min_freq_drops_rare_tokens():
    assert Vocab.build("aaabbc", min_freq=2).tokens[4:] == ["a", "b"]


def test_build_rejects_bad_arguments():
    with pytest.raises(ValueError, match="level must be 'char' or 'word', got 'byte'"):
        Vocab.build("abc", level="byte")
    with pytest.raises(ValueError, match="text is empty"):
        Vocab.build("")
    with pytest.raises(ValueError, match="empty or only newlines"):
        Vocab.build("\n\n")
    with pytest.raises(ValueError, match="empty or only whitespace"):
        Vocab.build(" \n\t", level="word")
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build("abc", max_size=-1)
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build("abc", min_freq=0)
    with pytest.raises(TypeError, match="must be a str, got bytes"):
        Vocab.build(b"abc")


def test_word_level_does_not_duplicate_specials():
    v = Vocab.build("the <unk> sat <eos>", level="word")
    assert v.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "sat", "the"]
    assert v.encode("the <unk> sat") == [5, 1, 4]


@pytest.mark.parametrize("tokens, level, message", [
    (["a", "a"], "char", "distinct"),
    (["ab"], "char", "one character"),
    (["a b"], "word", "whitespace"),
    (["<eos>"], "word", "special token"),
    ([""], "word", "non-empty strings"),
    ([3], "char", "non-empty strings"),
])
def test_constructor_rejects_bad_tokens(tokens, level, message):
    with pytest.raises(ValueError, match=message):
        Vocab(tokens, level)


def test_char_round_trip_with_unicode():
    text = "naïve café: 東京 ☃ 🙂"
    v = Vocab.build(text)
    ids = v.encode(text)
    assert len(ids) == len(text) and min(ids) >= 4
    assert v.decode(ids) == text


def test_word_round_trip():
    text = "the cat sat on the mat"
    v = Vocab.build(text, level="word")
    assert v.tokens[4:] == ["the", "cat", "mat", "on", "sat"]
    assert v.encode(text) == [4, 5, 8, 7, 4, 6]
    assert v.decode(v.encode(text)) == text
    assert v.decode(v.encode("  the\tcat\n sat ")) == "the cat sat"


def test_unknowns_become_unk_and_show_in_decode():
    v = Vocab.build("abc")
    assert v.encode("abxc\n") == [4, 5, 1, 6, 1]
    assert v.decode(v.encode("abxc")) == "ab<unk>c"
    assert v.unknown("abxc\nyy") == {"x", "y", "\n"}
    assert v.unknown("cab") == set()
    assert v["x"] == v.unk_id and "x" not in v and "a" in v and "<pad>" in v


def test_encode_adds_bos_and_eos():
    v = Vocab.build("ab")
    assert v.encode("ab", add_bos=True) == [2, 4, 5]
    assert v.encode("ab", add_eos=True) == [4, 5, 3]
    assert v.encode("", add_bos=True, add_eos=True) == [2, 3]


def test_decode_special_handling():
    v = Vocab.build("ab")
    ids = [2, 4, 1, 5, 3, 0, 0]
    assert v.decode(ids) == "a<unk>b"
    assert v.decode(ids, skip_special=False) == "<bos>a<unk>b<eos><pad><pad>"
    assert v.decode([]) == ""


def test_decode_accepts_arrays_tensors_and_ints():
    v = Vocab.build("ab")
    assert v.decode(np.array([4, 5, 4], dtype=np.int32)) == "aba"
    assert v.decode(ts.tensor([5, 4])) == "ba"
    assert v.decode(5) == "b"
    assert v.decode(np.int64(4)) == "a"


def test_decode_rejects_bad_ids():
    v = Vocab.build("ab")
    with pytest.raises(ValueError, match="id 6 is out of range.*0 to 5"):
        v.decode([4, 6])
    with pytest.raises(ValueError, match="id -1 is out of range"):
        v.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        v.decode([4.0])
    with pytest.raises(ValueError, match="one sequence"):
        v.decode(np.zeros((2, 2), dtype=np.int64))


def test_id_to_token():
    v = Vocab.build("ab")
    assert [v.id_to_token(i) for i in range(len(v))] == v.tokens
    with pytest.raises(ValueError, match="id 6"):
        v.id_to_token(6)


def test_encode_lines_on_names():
    v = Vocab.build("emma\nava\n")
    e, m, a, vv = v["e"], v["m"], v["a"], v["v"]
    assert v.encode_lines("emma\nava\n") == [2, e, m, m, a, 3, 2, a, vv, a, 3]
    assert v.encode_lines("emma\n\n\nava") == v.encode_lines("emma\nava\n")
    assert v.encode_lines("") == []


def test_encode_lines_word_level():
    v = Vocab.build("to be\nor not", level="word")
    assert v.encode_lines("to be\nor not\n") == [2, v["to"], v["be"], 3, 2, v["or"], v["not"], 3]


def test_one_hot_shape_and_values():
    v = Vocab.build("abc")
    ids = np.array([[4, 6], [1, 0], [5, 3]])
    oh = v.one_hot(ids)
    assert isinstance(oh, ts.Tensor) and oh.dtype == np.float32 and oh.shape == (3, 2, 7)
    np.testing.assert_array_equal(oh.numpy(), np.eye(7, dtype=np.float32)[ids])
    np.testing.assert_array_equal(oh.numpy().sum(-1), np.ones((3, 2)))
    assert v.one_hot(ts.tensor([6])).tolist() == [[0, 0, 0, 0, 0, 0, 1]]
    assert v.one_hot([]).shape == (0, 7)


def test_one_hot_rejects_out_of_range():
    with pytest.raises(ValueError, match="id 7 is out of range"):
        Vocab.build("abc").one_hot([1, 7])


def test_equality_repr_and_hash():
    a, b = Vocab.build("hello"), Vocab(["l", "e", "h", "o"])
    assert a == b and hash(a) == hash(b)
    assert a != Vocab(["l", "e", "h", "o"], level="word")
    assert a != Vocab(["e", "l", "h", "o"])
    assert a != "hello"
    assert repr(a) == "Vocab(level='char', size=8)"


def test_dict_round_trip_is_json():
    v = Vocab.build("the cat the hat", level="word")
    d = json.loads(json.dumps(v.to_dict()))
    assert d == {"format": 1, "level": "word", "tokens": ["the", "cat", "hat"]}
    assert Vocab.from_dict(d) == v


@pytest.mark.parametrize("d, message", [
    ([], "expected a dict, got list"),
    ({"level": "char", "tokens": []}, "'format' must be 1, got None"),
    ({"format": 1, "level": "char"}, "'tokens' must be a list"),
    ({"format": 1, "level": "line", "tokens": []}, "level must be"),
])
def test_from_dict_errors(d, message):
    with pytest.raises(ValueError, match=message):
        Vocab.from_dict(d)


def test_save_load_round_trip(tmp_path):
    v = Vocab.build("naïve café ☃\nemma")
    path = v.save(tmp_path / "vocab.json")
    assert path == tmp_path / "vocab.json"
    assert Vocab.load(path) == v and Vocab.load(str(path)) == v
    assert "☃" in path.read_text(encoding="utf-8")  # UTF-8, not \u escapes
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary file left


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text("old")
    Vocab.build("ab").save(path)
    assert Vocab.load(path) == Vocab.build("ab")


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = Vocab.build("ab").save(tmp_path / "vocab.json")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        Vocab.build("xyz").save(path)
    assert Vocab.load(path) == Vocab.build("ab")
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json does not exist"):
        Vocab.load(tmp_path / "nope.json")


@pytest.mark.parametrize("content", [
    b"not json at all", b'{"format": 1, "level": "char"}', b'[1, 2]',
    b'{"format": 2, "level": "char", "tokens": []}', b"\xff\xfe\x00", b"",
])
def test_load_bad_files(tmp_path, content):
    path = tmp_path / "vocab.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="vocab.json is not a tinyseq vocabulary file"):
        Vocab.load(path)


def test_load_a_directory(tmp_path):
    with pytest.raises(ValueError, match="is not a tinyseq vocabulary file"):
        Vocab.load(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\n"), min_size=1))
def test_char_round_trip_property(text):
    v = Vocab.build(text)
    assert v.decode(v.encode(text)) == text
    assert v.unknown(text) == set()
    assert len(v) == 4 + len(set(text))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=5), min_size=1, max_size=8))
def test_word_round_trip_property(words):
    text = " ".join(words)
    v = Vocab.build(text, level="word")
    assert v.decode(v.encode(text)) == text
