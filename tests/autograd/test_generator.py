"""``ts.Generator`` (issue 15): a random stream of one's own, as ``torch.Generator``, taken by
``generator=`` wherever torch takes one. The numbers are not torch's (another generator); what is
tested is what a program relies on: one seed, the same draws; a state restored, the same draws
again; a Generator never moves the default stream."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq.nn import init
from tinyseq.utils import data

DRAWS = {
    "randn": lambda g: ts.randn(2, 3, generator=g),
    "rand": lambda g: ts.rand(4, generator=g, dtype=ts.float64),
    "randint": lambda g: ts.randint(0, 100, (5,), generator=g),
    "randint_high": lambda g: ts.randint(7, (5,), generator=g),
    "randperm": lambda g: ts.randperm(10, generator=g),
    "multinomial": lambda g: ts.multinomial(ts.ones(2, 8), 3, generator=g),
    "multinomial_method": lambda g: ts.ones(8).multinomial(8, replacement=True, generator=g),
    "init.normal_": lambda g: init.normal_(ts.empty(3, 2), generator=g),
    "init.uniform_": lambda g: init.uniform_(ts.empty(6), -1, 1, generator=g),
    "init.xavier_uniform_": lambda g: init.xavier_uniform_(ts.empty(3, 4), generator=g),
    "init.kaiming_normal_": lambda g: init.kaiming_normal_(ts.empty(3, 4), generator=g),
    "init.orthogonal_": lambda g: init.orthogonal_(ts.empty(3, 3), generator=g),
    "random_split": lambda g: ts.tensor(data.random_split(range(10), [4, 6], generator=g)[0].indices),
    "RandomSampler": lambda g: ts.tensor(list(data.RandomSampler(range(9), generator=g))),
    "DataLoader": lambda g: ts.cat(list(data.DataLoader(ts.arange(9), batch_size=4, shuffle=True,
                                                        generator=g))),
}


@pytest.mark.parametrize("name", DRAWS)
def test_one_seed_gives_the_same_draws_and_leaves_the_default_stream_alone(name):
    draw = DRAWS[name]
    ts.manual_seed(5)
    expected_default = ts.rand(3).tolist()
    ts.manual_seed(5)
    first = draw(ts.Generator().manual_seed(11)).tolist()
    assert ts.rand(3).tolist() == expected_default  # the default stream did not move
    assert draw(ts.Generator().manual_seed(11)).tolist() == first
    others = [draw(ts.Generator().manual_seed(s)).tolist() for s in (12, 13, 14)]
    assert any(o != first for o in others)  # the seed matters


@pytest.mark.parametrize("name", ["randn", "randperm", "init.normal_", "RandomSampler"])
def test_a_numpy_generator_is_still_taken(name):
    a = DRAWS[name](np.random.default_rng(3)).tolist()
    assert a == DRAWS[name](np.random.default_rng(3)).tolist()


def test_manual_seed_returns_the_generator_and_seed_picks_a_new_one():
    g = ts.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42 and g.device == ts.device("cpu")
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1  # as torch: mod 2**64
    seeds = {g.seed() for _ in range(3)}
    assert len(seeds) == 3 and g.initial_seed() in seeds and all(0 <= s < 2 ** 64 for s in seeds)
    a = ts.rand(3, generator=g).tolist()
    assert ts.rand(3, generator=ts.Generator().manual_seed(g.initial_seed())).tolist() == a
    assert ts.manual_seed(3) is ts.default_generator and ts.initial_seed() == 3


def test_get_state_and_set_state_round_trip():
    g = ts.Generator().manual_seed(9)
    ts.randn(5, generator=g)
    state = g.get_state()
    assert state.dtype is ts.uint8 and state.ndim == 1
    after = [ts.randn(3, generator=g).tolist(), ts.randint(0, 9, (4,), generator=g).tolist()]
    h = ts.Generator().set_state(state)
    assert [ts.randn(3, generator=h).tolist(), ts.randint(0, 9, (4,), generator=h).tolist()] == after
    assert h.initial_seed() == 9
    ts.manual_seed(1)
    saved = ts.get_rng_state()
    x = ts.rand(4).tolist()
    ts.set_rng_state(saved)
    assert ts.rand(4).tolist() == x


def test_bad_generators_and_states_are_refused_as_torch_refuses_them():
    with pytest.raises(TypeError, match=r"^randn: generator must be None or a numpy.random.Generator"
                                        r" \(or a ts.Generator\), got int"):
        ts.randn(2, generator=3)
    with pytest.raises(TypeError, match=r"^set_state: expected a ts.ByteTensor \(uint8\) from "
                                        r"get_state\(\), got float32"):
        ts.Generator().set_state(ts.zeros(48))
    with pytest.raises(TypeError, match="got str"):
        ts.Generator().set_state("state")
    with pytest.raises(RuntimeError, match=r"^set_state: expected the 48 bytes that get_state\(\) "
                                           r"gives, got a tensor of shape \(3,\)"):
        ts.Generator().set_state(ts.zeros(3, dtype=ts.uint8))
    with pytest.raises(RuntimeError, match="cuda"):
        ts.Generator("cuda")
