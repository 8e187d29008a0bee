"""Shared fixtures: a seeded generator for every test, a PATH without graphviz's ``dot``, and a
switch to keep doctests readable."""
import shutil

import numpy as np
import pytest

import tinyseq as ts


@pytest.fixture(autouse=True)
def _seed():
    ts.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """PATH without graphviz's ``dot``, as on a machine that never installed graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("dot") is None
