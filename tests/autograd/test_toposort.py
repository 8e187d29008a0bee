"""toposort: the one walk of the graph, shared by backward and ts.viz."""
import tinyseq as ts
from tinyseq.autograd.node import AccumulateGrad
from tinyseq.autograd.toposort import toposort


def inputs(node):
    return [e[0] for e in node.next_edges if e is not None]


def assert_consumers_first(order):
    place = {node: i for i, node in enumerate(order)}
    assert len(place) == len(order)  # each node once
    for node in order:
        assert all(place[node] < place[child] for child in inputs(node))


def test_each_node_comes_once_after_every_node_that_consumes_it():
    x = ts.tensor([0.5], requires_grad=True)
    s = x.exp()
    y = (s.tanh() + s * s).sum()
    order = toposort([y.grad_fn])
    assert [node.name for node in order] == ["sum", "add", "mul", "tanh", "exp",
                                             "accumulate_grad"]
    assert_consumers_first(order)
    assert type(order[-1]) is AccumulateGrad and order[-1].leaf is x


def test_several_roots_one_below_another_and_a_root_given_twice():
    x = ts.ones(3, requires_grad=True)
    h = x * 2
    y = h.sum()
    order = toposort([h.grad_fn, y.grad_fn, h.grad_fn])
    assert [node.name for node in order] == ["sum", "mul", "accumulate_grad"]  # h after y


def test_a_graph_deeper_than_the_recursion_limit_is_walked():
    x = ts.ones(1, requires_grad=True)
    h = x
    for _ in range(30_000):
        h = h + 1.0
    order = toposort([h.grad_fn])
    assert len(order) == 30_001
    assert_consumers_first(order)
