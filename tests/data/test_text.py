"""ts.data.load_text: embedded corpora, UTF-8 files, and one clear DataError per bad input."""
import pytest

import tinyseq as ts
from tinyseq.data import DataError, load_text


def test_embedded_corpora():
    name, text = load_text("names")
    assert name == "names" and text == ts.data.corpus("names")
    assert text.split()[:3] == ["emma", "olivia", "ava"]
    name, text = load_text("shakespeare")
    assert name == "shakespeare" and text.startswith("First Citizen:")


def test_utf8_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("naïve café\n東京 ☃\n", encoding="utf-8")
    assert load_text(path) == ("poem.txt", "naïve café\n東京 ☃\n")
    assert load_text(str(path)) == ("poem.txt", "naïve café\n東京 ☃\n")


def test_line_ends_and_bom_are_normalised(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes(b"\xef\xbb\xbfemma\r\nava\rbob\n")
    assert load_text(path)[1] == "emma\nava\nbob\n"


def test_corpus_name_wins_over_a_file_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "names").write_text("zed\n")
    assert load_text("names")[1] == ts.data.corpus("names")
    assert load_text("./names") == ("names", "zed\n")


def test_unknown_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"no such file or embedded corpus: shakespear \(the "
                                        r"embedded corpora are names, shakespeare\).*path"):
        load_text("shakespear")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"no such file or embedded corpus: .*missing\.txt"):
        load_text(tmp_path / "missing.txt")


def test_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory; give the path of a text file"):
        load_text(tmp_path)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  ", "\u3000\n".encode()])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"empty\.txt is empty \(or only whitespace\)"):
        load_text(path)


@pytest.mark.parametrize("content", [
    b"\x00\x01\x02\x03binary",  # a NUL byte
    b"text\x00",
    bytes(range(1, 9)) * 100,  # no NUL but control bytes through and through
])
def test_binary_file(tmp_path, content):
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"model\.bin looks like a binary file.*UTF-8 text file"):
        load_text(path)


def test_a_few_control_characters_are_still_text(tmp_path):
    path = tmp_path / "log.txt"
    path.write_bytes(b"\x1b[1mbold\x1b[0m and a form feed\x0c\n" * 3)
    assert load_text(path)[1].count("\x0c") == 3


def test_latin1_file(tmp_path):
    path = tmp_path / "menu.txt"
    path.write_bytes(b"tea\ncaf\xe9")
    with pytest.raises(DataError, match=r"menu\.txt is not UTF-8: byte 0xe9 at offset 7 \(line 2\)"
                                        r".*re-encode the file to UTF-8.*iconv"):
        load_text(path)


def test_non_utf8_offset_counts_the_byte_order_mark(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfcaf\xe9")
    with pytest.raises(DataError, match="byte 0xe9 at offset 6 \\(line 1\\)"):
        load_text(path)


def test_utf16_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("emma\n", encoding="utf-16")
    with pytest.raises(DataError, match=r"notes\.txt is UTF-16, not UTF-8.*iconv -f utf-16"):
        load_text(path)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text("hi")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    with pytest.raises(DataError, match=r"cannot read .*secret\.txt: Permission denied"):
        load_text(path)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)
