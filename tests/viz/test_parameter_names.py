"""Parameters in drawings are named by the module path found in the scopes they are used in (a
Parameter itself has no name unless you give it one, as in PyTorch)."""
import tinyseq as ts
from tinyseq import nn
from tinyseq.viz.graph import trace


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(2, 3, num_layers=2)
        self.head = nn.Linear(3, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def drawn(root):
    """kind -> sorted titles of the drawn leaves."""
    found = {}
    for item in trace(root).items.values():
        if item.kind in ("parameter", "input"):
            found.setdefault(item.kind, []).append(item.title)
    return {kind: sorted(titles) for kind, titles in found.items()}


def test_parameters_are_named_by_their_modules_path_and_other_scopes_do_not_rename():
    net = Net()
    with ts.autograd.scope("eval"):  # a scope around the call is not part of a name
        y = net(ts.ones(4, 1, 2)).sum()
    assert drawn(y) == {"parameter": sorted(f"net.{k}" for k, _ in net.named_parameters())}
    assert net.head.weight.name is None  # the name is the drawing's, not the parameter's


def test_a_name_you_give_wins_and_a_leaf_no_module_holds_is_an_input():
    net = Net()
    net.head.weight.name = "W_y"
    free = nn.Parameter(ts.ones(1))  # held by no module
    y = (net(ts.ones(4, 1, 2)) * free).sum()
    found = drawn(y)
    assert "W_y" in found["parameter"] and "net.head.weight" not in found["parameter"]
    assert found["input"] == ["input"]


def test_a_weight_used_outside_its_module_is_named_by_the_outer_module_that_holds_it():
    class Tied(nn.Module):  # the head reuses the embedding's weight
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(5, 3)

        def forward(self, ids):
            return self.embedding(ids) @ self.embedding.weight.T

    y = Tied()(ts.tensor([1, 2])).sum()
    assert drawn(y) == {"parameter": ["tied.embedding.weight"]}


def test_a_module_called_directly_is_named_from_where_it_was_called():
    net = Net()
    y = net.head(ts.ones(1, 3)).sum()  # no outer call: the head's own scope
    assert drawn(y) == {"parameter": ["head.bias", "head.weight"]}


def test_a_parameter_also_used_outside_its_module_keeps_its_name_in_either_order():
    """An L2 penalty uses the weights outside the model's scope; whichever use the drawing meets
    first, the module that holds them names them."""
    model = nn.Sequential(nn.Linear(2, 3))
    x = ts.ones(4, 2)
    penalty = lambda: sum((p ** 2).sum() for p in model.parameters())  # noqa: E731
    names = ["sequential.0.bias", "sequential.0.weight"]
    assert drawn(model(x).sum() + 1e-4 * penalty()) == {"parameter": names}
    assert drawn(1e-4 * penalty() + model(x).sum()) == {"parameter": names}
