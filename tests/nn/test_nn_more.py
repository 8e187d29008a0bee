"""The activations, ``F.pad``, the distances, ``kl_div``, the small layers, the containers,
``Embedding.from_pretrained`` and ``parameters_to_vector`` against PyTorch (outputs, then every
gradient), through gradcheck, and their refusals."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.strategies import arrays_for
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch


def case(name, fn, *shapes, kind="n"):
    return pytest.param(name, fn, shapes, kind, id=name)


def F(m):
    return m.nn.functional


WIDE = [-40.0, -25.0, -3.0, -0.5, 0.0, 0.7, 3.0, 19.9, 25.0, 80.0]  # both ends of each branch

FUNCTIONS = [
    case("gelu", lambda m, x: F(m).gelu(x), (3, 4)),
    case("gelu_tanh", lambda m, x: F(m).gelu(x, approximate="tanh"), (3, 4)),
    case("silu", lambda m, x: F(m).silu(x), (5,)),
    case("leaky_relu", lambda m, x: F(m).leaky_relu(x, 0.2), (3, 4)),
    case("leaky_relu_default", lambda m, x: F(m).leaky_relu(x), (2, 3)),
    case("elu", lambda m, x: F(m).elu(x, alpha=1.5), (3, 4)),
    case("softplus", lambda m, x: F(m).softplus(x), (3, 4)),
    case("softplus_beta", lambda m, x: F(m).softplus(x, beta=2, threshold=3), (3, 4)),
    case("pad_last", lambda m, x: F(m).pad(x, (1, 2)), (2, 3)),
    case("pad_two_dims_value", lambda m, x: F(m).pad(x, (0, 1, 2, 0), value=-1.5), (2, 3, 2)),
    case("pad_all_dims_negative", lambda m, x: F(m).pad(x, (-1, 2, 1, -1, 1, 1)), (2, 3, 4)),
    case("pad_reflect", lambda m, x: F(m).pad(x, (2, 1), mode="reflect"), (2, 3, 4)),
    case("pad_reflect_2d", lambda m, x: F(m).pad(x, (1, 1, 2, 1), mode="reflect"), (1, 3, 4)),
    case("pad_replicate", lambda m, x: F(m).pad(x, (3, 1), mode="replicate"), (2, 3)),
    case("pad_circular", lambda m, x: F(m).pad(x, (1, 2, 2, 0), mode="circular"), (1, 2, 3, 3)),
    case("normalize", lambda m, x: F(m).normalize(x), (3, 4)),
    case("normalize_p1_dim0", lambda m, x: F(m).normalize(x, p=1, dim=0), (3, 4)),
    case("normalize_p3", lambda m, x: F(m).normalize(x, p=3.0, dim=-1), (2, 5)),
    case("cosine_similarity", lambda m, a, b: F(m).cosine_similarity(a, b), (3, 4), (3, 4)),
    case("cosine_similarity_bcast", lambda m, a, b: F(m).cosine_similarity(a, b, dim=-1),
         (2, 3, 4), (4,)),
    case("pairwise_distance", lambda m, a, b: F(m).pairwise_distance(a, b), (3, 4), (3, 4)),
    case("pairwise_distance_p1_keepdim",
         lambda m, a, b: F(m).pairwise_distance(a, b, p=1.0, keepdim=True), (3, 4), (4,)),
    case("kl_div_batchmean", lambda m, x, t: F(m).kl_div(x.log_softmax(1), t.softmax(1),
                                                         reduction="batchmean"), (3, 4), (3, 4)),
    case("kl_div_sum_log_target", lambda m, x, t: F(m).kl_div(
        x.log_softmax(1), t.log_softmax(1), reduction="sum", log_target=True), (3, 4), (3, 4)),
    case("kl_div_none", lambda m, x, t: F(m).kl_div(x, t.relu(), reduction="none"), (2, 3),
         (2, 3)),
    case("erf", lambda m, x: m.erf(x) + x.erf(), (3, 4)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn, shapes, kind", FUNCTIONS)
def test_functions_match_torch(name, fn, shapes, kind, dtype):
    compare_with_torch(fn, arrays=arrays_for(name, shapes, kind), dtype=dtype)


@pytest.mark.parametrize("name, fn, shapes, kind", FUNCTIONS)
def test_gradcheck(name, fn, shapes, kind):
    xs = [ts.tensor(a, dtype=ts.float64, requires_grad=True) for a in arrays_for(name, shapes,
                                                                                kind)]
    assert ts.autograd.gradcheck(lambda *t: fn(ts, *t), xs) is True


@pytest.mark.parametrize("name", ["gelu", "elu", "softplus", "silu", "leaky_relu"])
def test_activations_at_kinks_and_far_ends_match_torch(name):
    """Large inputs overflow nothing; at 0 the gradient is torch's choice of branch."""
    fn = getattr(torch.nn.functional, name)
    compare_with_torch(lambda m, x: getattr(F(m), name)(x), arrays=[np.array(WIDE)],
                       torch_fn=lambda m, x: fn(x))


def test_zero_vectors_get_torchs_values_and_finite_gradients():
    compare_with_torch(lambda m, x: F(m).normalize(x), arrays=[np.zeros((2, 3))])
    compare_with_torch(lambda m, a, b: F(m).cosine_similarity(a, b),
                       arrays=[np.zeros((2, 3)), np.ones((2, 3))], requires_grad=[False, True])


def test_kl_div_mean_warns_as_torch_and_zero_targets_add_nothing():
    x, t = ts.tensor([[-1.0, -2.0]]), ts.tensor([[0.0, 1.0]])
    with pytest.warns(UserWarning, match="batchmean"):
        loss = ts.nn.functional.kl_div(x, t)
    assert loss.item() == pytest.approx((0 - 1 * -2.0) / 2)


# ---- modules ------------------------------------------------------------------------------------
MODULES = [
    ("GELU", lambda nn: nn.GELU(), (3, 4)),
    ("GELU_tanh", lambda nn: nn.GELU(approximate="tanh"), (3, 4)),
    ("SiLU", lambda nn: nn.SiLU(), (3, 4)),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.1), (3, 4)),
    ("ELU", lambda nn: nn.ELU(alpha=0.5), (3, 4)),
    ("Softplus", lambda nn: nn.Softplus(beta=0.5, threshold=1.0), (3, 4)),
    ("Identity", lambda nn: nn.Identity(54, unused="x"), (3, 4)),
    ("Flatten", lambda nn: nn.Flatten(), (2, 3, 4)),
    ("Flatten_dims", lambda nn: nn.Flatten(0, 1), (2, 3, 4)),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 2)), (3, 4)),
    ("Sequential_of_them", lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.GELU(),
                                                    nn.Unflatten(1, (5, 1))), (2, 3, 4)),
]


@pytest.mark.parametrize("name, make, shape", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch_and_print_as_torch(name, make, shape):
    ours, theirs, _, _ = compare_module_with_torch(make, [arrays_for(name, [shape])[0]])
    assert repr(ours) == repr(theirs)


def test_bad_activation_arguments_are_refused_in_one_line():
    for call, error, name in [
            (lambda m: F(m).gelu(m.ones(2), approximate="exact"), RuntimeError, "gelu"),
            (lambda m: m.nn.GELU("fast")(m.ones(2)), RuntimeError, "GELU"),
            (lambda m: F(m).pad(m.ones(2, 2), (1,)), RuntimeError, "pad"),
            (lambda m: F(m).pad(m.ones(2, 3), (3, 3), mode="reflect"), RuntimeError, "pad"),
            (lambda m: F(m).pad(m.ones(3), (1, 1), mode="replicate"), NotImplementedError, "pad"),
            (lambda m: F(m).pad(m.ones(2), (1, 1, 1, 1, 1, 1)), RuntimeError, "pad")]:
        with pytest.raises(error):
            call(torch)
        with pytest.raises(error) as info:
            call(ts)
        assert "\n" not in str(info.value) and str(info.value).startswith(name + ":")


# ---- containers ---------------------------------------------------------------------------------
def _model(nn):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 2)})
            self.scales = nn.ParameterList([nn.Parameter(ts_or_torch(nn).ones(2)) for _ in
                                            range(2)])
            self.bias = nn.ParameterDict({"shift": nn.Parameter(ts_or_torch(nn).zeros(2))})

        def forward(self, x):
            out = sum(head(x) * s for head, s in zip(self.heads.values(), self.scales))
            return out + self.bias["shift"]

    return Model()


def ts_or_torch(nn):
    return torch if nn is torch.nn else ts


def test_containers_register_their_entries_as_torchs_do():
    ours, theirs, _, _ = compare_module_with_torch(_model, [np.ones((4, 3))])
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "scales.0",
        "scales.1", "bias.shift"]
    assert repr(ours).replace("ts.", "torch.").replace("tinyseq.", "torch.") == repr(theirs)


def test_containers_behave_as_dicts_and_lists():
    nn = ts.nn
    d = nn.ModuleDict()
    d["x"] = nn.Tanh()
    d.update([("y", nn.ReLU())])
    assert list(d) == ["x", "y"] and "y" in d and len(d) == 2
    assert isinstance(d.pop("x"), nn.Tanh) and list(d.keys()) == ["y"]
    plist = nn.ParameterList([ts.zeros(2)])
    plist.append(ts.ones(3)).extend([ts.ones(1)])
    assert [p.shape for p in plist] == [(2,), (3,), (1,)] and plist[-1].requires_grad
    assert isinstance(plist[0], nn.Parameter) and len(plist[1:]) == 2
    pdict = nn.ParameterDict({"w": ts.ones(2)})
    pdict["v"] = ts.zeros(1)
    assert list(pdict.keys()) == ["w", "v"] and isinstance(pdict["v"], nn.Parameter)
    for call, error in [(lambda: nn.ModuleDict({"a": 3}), TypeError),
                        (lambda: nn.ModuleDict({"a.b": nn.Tanh()}), KeyError),
                        (lambda: nn.ModuleDict({"training": nn.Tanh()}), KeyError),
                        (lambda: nn.ParameterList([[1.0]]), TypeError),
                        (lambda: plist[3], IndexError)]:
        with pytest.raises(error):
            call()


# ---- Embedding.from_pretrained, parameters_to_vector --------------------------------------------
@pytest.mark.parametrize("freeze, padding_idx", [(True, None), (False, None), (False, 1)])
def test_embedding_from_pretrained_matches_torch(freeze, padding_idx):
    weights = arrays_for("pretrained", [(5, 3)])[0].astype(np.float32)
    ids = np.array([[1, 4, 1], [0, 2, 1]])

    def make(nn):
        lib = ts_or_torch(nn)
        return nn.Embedding.from_pretrained(lib.tensor(weights), freeze=freeze,
                                            padding_idx=padding_idx)

    ours, theirs, _, _ = compare_module_with_torch(make, [ids])
    assert ours.weight.requires_grad is (not freeze) and repr(ours) == repr(theirs)


def test_embedding_from_pretrained_shares_the_given_memory_and_refuses_a_vector():
    w = ts.zeros(2, 2)
    e = ts.nn.Embedding.from_pretrained(w)
    w[0, 0] = 5.0
    assert e(ts.tensor([0])).tolist() == [[5.0, 0.0]]
    with pytest.raises(ValueError, match="2-dimensional"):
        ts.nn.Embedding.from_pretrained(ts.zeros(3))


def test_parameters_to_vector_and_back_match_torch():
    def make(nn):
        return nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))

    def forward(m, model, x):
        vec = m.nn.utils.parameters_to_vector(model.parameters())
        return vec * x

    compare_module_with_torch(make, [np.arange(11.0)], forward=forward)
    model = ts.nn.Linear(2, 2)
    ts.nn.utils.vector_to_parameters(ts.arange(6.0), model.parameters())
    assert model.weight.tolist() == [[0, 1], [2, 3]] and model.bias.tolist() == [4, 5]
    with pytest.raises(ValueError, match="7 elements, the parameters 6"):
        ts.nn.utils.vector_to_parameters(ts.arange(7.0), model.parameters())


def test_no_warnings_from_the_new_layers():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ts.nn.Sequential(ts.nn.ELU(), ts.nn.Softplus())(ts.tensor([1e4, -1e4]))


@pytest.mark.parametrize("options", [dict(bias=False), dict(elementwise_affine=False)])
def test_layer_norm_without_bias_is_torchs(options):
    ours, theirs, _, _ = compare_module_with_torch(lambda nn: nn.LayerNorm(4, **options),
                                                   [arrays_for("layernorm", [(3, 4)])[0]])
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_a_deep_copied_module_trains_on_its_own_memory_as_in_torch():
    import copy

    lin = ts.nn.Linear(2, 2)
    lin(ts.ones(1, 2)).sum().backward()
    twin = copy.deepcopy(lin)
    assert twin.weight.grad is None and twin.weight.requires_grad  # (torch: no gradient copied)
    twin(ts.ones(1, 2)).sum().backward()
    twin.weight.data.zero_()
    assert twin.weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]] and lin.weight.abs().sum() > 0
