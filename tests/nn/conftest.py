"""Fixtures of the nn tests."""
import pytest


@pytest.fixture
def torch_generator_untouched():
    """Leave torch's global generator as found: later modules build torch models from it (the
    attention and Transformer tests draw from it)."""
    import torch

    state = torch.random.get_rng_state()
    yield
    torch.random.set_rng_state(state)
