"""Embedded public-domain corpora (see PROVENANCE.md beside this file)."""
from importlib import resources

CORPORA = {"names": "names.txt", "shakespeare": "tinyshakespeare.txt"}


def corpus(name):
    """The text of an embedded corpus: ``"names"`` (32,033 first names) or ``"shakespeare"``.

    >>> import tinyseq as ts
    >>> ts.data.corpus("names").split()[:3]
    ['emma', 'olivia', 'ava']
    """
    if name not in CORPORA:
        raise ValueError(f"corpus: unknown corpus {name!r}; choose one of {sorted(CORPORA)}")
    return resources.files(__name__).joinpath(CORPORA[name]).read_text(encoding="ascii")
