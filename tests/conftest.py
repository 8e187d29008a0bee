"""Shared fixtures: a seeded generator for every test, and a switch to keep doctests readable."""
import numpy as np
import pytest

import tinyseq as ts


@pytest.fixture(autouse=True)
def _seed():
    ts.manual_seed(0)
    np.random.seed(0)
