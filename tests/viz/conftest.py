import shutil

import pytest


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """PATH without graphviz's ``dot``, as on a machine that never installed graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("dot") is None
