"""Everyday PyTorch idioms (one or a few lines each, as sequence-model programs write them) run
on tinyseq with only the import switched: each runs on both libraries, and every tensor it leaves
has PyTorch's shape and dtype, and PyTorch's values unless the line draws random numbers or builds
a randomly initialised layer (the two libraries' random streams differ).

The list began as a probe of what programs use (issue 15); a line that fails here is a gap."""
import re

import numpy as np
import pytest

import tinyseq

torch = pytest.importorskip("torch", reason="each idiom is compared with PyTorch")

RANDOM = re.compile(r"nn\.[A-Z]\w*\(|randint|randperm|multinomial|bernoulli|Generator|_like\(|"
                    r"dropout|Dropout|rng_state|\.normal_|\.uniform_|compile")

OPAQUE = re.compile(r"rng_state")

IDIOMS = [
    'x = torch.tensor(R(3, 4)); m = x > 0; y = x.masked_fill(m, 0.0)',
    'x = torch.tensor(R(3, 4)); x.masked_fill_(x > 0, 1.0)',
    'y = torch.where(torch.tensor(R(3)) > 0, torch.ones(3), torch.zeros(3))',
    'y = F.pad(torch.tensor(R(2, 3)), (1, 1))',
    'y = torch.tril(torch.ones(3, 3)); z = torch.triu(torch.ones(3, 3), diagonal=1)',
    'y = torch.tensor(R(2, 3)).repeat(2, 1)',
    'y = torch.tensor(R(1, 3)).expand(4, 3); z = torch.tensor(R(1, 3)).expand_as(torch.tensor(R(4, 3)))',
    'y = torch.tensor(R(6)).view_as(torch.tensor(R(2, 3))); z = torch.tensor(R(3)).type_as(torch.zeros(2, dtype=torch.float64))',
    'a, b = torch.tensor(R(4, 6)).chunk(2, dim=1); c = torch.tensor(R(5, 2)).split(2)',
    'y = torch.clamp(torch.tensor(R(3)), min=-0.5); z = torch.tensor(R(3)).clamp(max=0.1); w = torch.tensor(R(3)).clamp_(-1, 1)',
    'y = F.gelu(torch.tensor(R(3))); z = nn.GELU()(torch.tensor(R(3)))',
    'd = nn.ModuleDict({"a": nn.Linear(2, 2)}); pl = nn.ParameterList([nn.Parameter(torch.tensor(R(2)))])',
    'y = torch.einsum("bij,bjk->bik", torch.tensor(R(2, 3, 4)), torch.tensor(R(2, 4, 5)))',
    'y = torch.tensor(R(3, 4)).index_select(0, torch.tensor([0, 2]))',
    'y = torch.tensor(R(3, 4)).gather(1, torch.tensor([[0], [1], [2]]))',
    'y = torch.zeros(3, 4).scatter(1, torch.tensor([[0], [1], [2]]), 1.0)',
    'y = torch.zeros(3, 4).scatter_(1, torch.tensor([[0], [1], [2]]), 1.0)',
    'y = torch.randn_like(torch.zeros(2, 3)); z = torch.rand_like(torch.zeros(2)); w = torch.full_like(torch.zeros(2), 3.0)',
    'y = torch.tensor(R(3, 4)).norm(dim=1); z = torch.norm(torch.tensor(R(3))); w = torch.linalg.norm(torch.tensor(R(3)))',
    'p = nn.Parameter(torch.tensor(R(2))); p.sum().backward(); p.grad.zero_(); p.grad = None',
    'y = torch.tensor(R(3, 4)).masked_select(torch.tensor(R(3, 4)) > 0)',
    'e = nn.Embedding.from_pretrained(torch.tensor(R(5, 3))); y = e(torch.tensor([1, 2]))',
    'b = torch.allclose(torch.ones(2), torch.ones(2)); c = torch.equal(torch.ones(2), torch.ones(2)); d = torch.isclose(torch.ones(2), torch.ones(2))',
    'y = torch.logsumexp(torch.tensor(R(3, 4)), dim=1)',
    'y = torch.ones(3).bool(); z = ~y; w = y & z; v = y | z',
    'x = torch.zeros(3); x[x == 0] = 1.0',
    'opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1); opt.param_groups[0]["lr"] = 0.01',
    'opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1); s = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e); s.step()',
    'opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1); s = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5); s.step()',
    'opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1); s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt); s.step(1.0)',
    'n = [name for name, _ in nn.Sequential(nn.Linear(2, 2)).named_modules()]',
    'n = sum(p.numel() for p in nn.LSTM(3, 4).parameters() if p.requires_grad)',
    'class M(nn.Module):\\n    def __init__(self):\\n        super().__init__(); self.register_buffer("pe", torch.zeros(3))\\nm = M(); sd = m.state_dict(); assert "pe" in sd',
    'v = torch.autograd.Variable(torch.tensor(R(2)), requires_grad=True)',
    'y = torch.tensor(R(2, 3)).detach().cpu().numpy()',
    'g = torch.is_tensor(torch.ones(1)); h = torch.numel(torch.ones(2, 3))',
    '@torch.no_grad()\\ndef f(x):\\n    return x * 2\\ny = f(torch.ones(2, requires_grad=True)); assert not y.requires_grad',
    'with torch.set_grad_enabled(False):\\n    y = torch.ones(2, requires_grad=True) * 2',
    'torch.set_grad_enabled(True)',
    'y = torch.ones(2, 3).sum(dim=(0, 1)); z = torch.ones(2, 3).mean((0, 1))',
    'y = torch.arange(0, 10, 2, dtype=torch.float); z = torch.linspace(0, 1, 5)',
    'y = torch.ones(2, 3).std(); z = torch.ones(2, 3).var(dim=0)',
    'y = torch.ones(2, 3).prod(); z = torch.cumsum(torch.ones(3), dim=0)',
    'y = torch.sin(torch.ones(2)) + torch.cos(torch.ones(2)) + torch.ones(2).sqrt() + torch.rsqrt(torch.ones(2))',
    'y = F.normalize(torch.tensor(R(3, 4)), dim=1)',
    'y = F.cosine_similarity(torch.tensor(R(3, 4)), torch.tensor(R(3, 4)))',
    'y = torch.tensor(R(2, 3)).softmax(-1); z = torch.tensor(R(2, 3)).log_softmax(dim=-1)',
    'y = F.dropout(torch.ones(3), 0.5, training=False)',
    'y = torch.ones(2, 3).t().contiguous().view(-1)',
    'l = nn.LSTM(3, 4, batch_first=True); o, (h, c) = l(torch.tensor(R(2, 5, 3))); assert h.shape == (1, 2, 4)',
    'y = torch.tensor(3.5).floor(); z = torch.ones(2).ceil(); w = torch.tensor(R(2)).round()',
    'y = torch.tensor(R(3)).sign(); z = torch.tensor(R(3)).abs_()',
    'y = torch.ones(2, 3).unbind(1)',
    'y = torch.stack([torch.ones(2)] * 3, dim=1).flatten(); z = torch.ones(2, 3, 4).flatten(1)',
    'y = torch.ones(2, 3).unflatten(1, (3, 1))',
    'y = torch.zeros(3, dtype=torch.long).fill_(2); z = torch.zeros(3).zero_()',
    'y = torch.tensor(R(3, 4)).topk(2, dim=1, largest=False).indices',
    'y = torch.ones(3).any(); z = torch.ones(3).all(); w = torch.ones(3).nonzero()',
    'y = torch.tensor([1, 2, 3]).unique()',
    'y = torch.ones(2, 3).to(torch.float64).dtype == torch.float64',
    'x = torch.ones(2, requires_grad=True); y = (x * 2).sum(); g, = torch.autograd.grad(y, x)',
    'x = torch.ones(3); x += 1; x *= 2; x -= 1; x /= 2',
    'y = torch.ones(3).div(2, rounding_mode="floor"); z = torch.ones(3) // 2; w = torch.ones(3) % 2',
    'y = torch.Tensor(2, 3).shape == (2, 3)',
    'y = torch.ones(2, 3).size() == torch.Size([2, 3])',
    's = str(torch.float32)',
    'y = torch.tensor([[1.0, 2.0]]).squeeze(0).unsqueeze(-1).transpose(0, 1).permute(1, 0)',
    'y = nn.functional.embedding(torch.tensor([0, 1]), torch.tensor(R(3, 2)))',
    'y = torch.ones(3).cumprod(0); z = torch.diag(torch.ones(3)); w = torch.eye(3)',
    'y = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.Linear(3, 1)); y[0]; len(y)',
    'y = nn.utils.parameters_to_vector(nn.Linear(2, 2).parameters())',
    'y = torch.bernoulli(torch.full((3,), 0.5))',
    'y = torch.ones(2, 3).new_ones(2).expand(3, 2)',
    'y = nn.Identity()(torch.ones(2)); z = nn.Flatten()(torch.ones(2, 3, 4))',
    'y = nn.Conv1d(3, 4, 2)(torch.tensor(R(1, 3, 5)))',
    'y = torch.ones(2, 3).max(); z = torch.max(torch.ones(3), torch.zeros(3))',
    'y = torch.ones(2, 3).amax(dim=1); z = torch.argmax(torch.ones(2, 3), dim=1)',
    'y = torch.ones(4).reshape(2, -1).half().float()',
    'm = nn.LSTM(3, 4); m.train(False); m.eval(); assert not m.training',
    'm = nn.Linear(2, 2); m.weight.data.normal_(0, 0.02); m.bias.data.zero_(); m.weight.data.fill_(0.5)',
    'm = nn.Linear(2, 2); m.weight.requires_grad = False; assert len([p for p in m.parameters() if p.requires_grad]) == 1',
    'm = nn.Linear(2, 2); m(torch.ones(1, 2)).sum().backward(); torch.nn.utils.clip_grad_value_(m.parameters(), 1.0)',
    'x = torch.ones(2, 3); y = x.sum(-1, keepdim=True) / x.size(-1)',
    'y = torch.ones(2, 3).numpy().shape',
    'y = torch.tensor(np.array([1, 2]))',
    'y = torch.as_tensor([1.0, 2.0]); z = torch.as_tensor(np.zeros(2))',
    'y = torch.tensor([1.0]).expand(3).clone()',
    'y = torch.nn.functional.softmax(torch.tensor(R(2, 3)), dim=1).multinomial(1)',
    'y = F.log_softmax(torch.tensor(R(2, 3)), 1).exp()',
    'y = torch.ones(2, 3).T',
    'y = torch.tensor(R(2, 3)) @ torch.tensor(R(3))',
    'y = torch.outer(torch.ones(2), torch.ones(3))',
    'y = torch.matmul(torch.tensor(R(2, 3)), torch.tensor(R(3, 4))); z = torch.mm(torch.tensor(R(2, 3)), torch.tensor(R(3, 4))); w = torch.mv(torch.tensor(R(2, 3)), torch.tensor(R(3)))',
    'y = torch.addmm(torch.zeros(2, 4), torch.tensor(R(2, 3)), torch.tensor(R(3, 4)))',
    'y = torch.baddbmm(torch.zeros(2, 2, 4), torch.tensor(R(2, 2, 3)), torch.tensor(R(2, 3, 4)))',
    'l = F.cross_entropy(torch.tensor(R(4, 5)), torch.tensor([0, 1, 2, 3]), label_smoothing=0.1)',
    'l = nn.CrossEntropyLoss(reduction="none")(torch.tensor(R(4, 5)), torch.tensor([0, 1, 2, 3]))',
    'l = nn.CrossEntropyLoss(weight=torch.ones(5))(torch.tensor(R(4, 5)), torch.tensor([0, 1, 2, 3]))',
    'l = F.cross_entropy(torch.tensor(R(4, 5)), torch.softmax(torch.tensor(R(4, 5)), 1))',
    'opt = torch.optim.AdamW(nn.Linear(2, 2).parameters(), lr=1e-3, weight_decay=0.01)',
    'opt = torch.optim.Adam(nn.Linear(2, 2).parameters(), lr=1e-3, weight_decay=0.01, amsgrad=True)',
    'm = nn.Linear(2, 2); opt = torch.optim.SGD([{"params": [m.weight], "lr": 0.1}, {"params": [m.bias]}], lr=0.01, momentum=0.9, nesterov=True)',
    'm = nn.Linear(2, 2); opt = torch.optim.Adam(m.parameters()); m(torch.ones(1, 2)).sum().backward(); opt.step(); sd = opt.state_dict(); opt.load_state_dict(sd)',
    'm = nn.LSTM(3, 4, proj_size=2); o, (h, c) = m(torch.tensor(R(5, 1, 3)))',
    'm = nn.GRU(3, 4, num_layers=2, dropout=0.2); o, h = m(torch.tensor(R(5, 1, 3)))',
    'm = torch.compile(nn.Linear(2, 2))',
    'm = nn.MultiheadAttention(8, 2); o, w = m(torch.tensor(R(3, 1, 8)), torch.tensor(R(3, 1, 8)), torch.tensor(R(3, 1, 8)))',
    'm = nn.TransformerEncoderLayer(8, 2, 16); o = m(torch.tensor(R(3, 1, 8)))',
    'mask = nn.Transformer.generate_square_subsequent_mask(4)',
    'y = F.scaled_dot_product_attention(torch.tensor(R(1, 2, 3, 4)), torch.tensor(R(1, 2, 3, 4)), torch.tensor(R(1, 2, 3, 4)), is_causal=True)',
    'm = nn.LayerNorm(4); y = m(torch.tensor(R(2, 4))); m2 = nn.BatchNorm1d(4); y = m2(torch.tensor(R(3, 4)))',
    'class D(torch.utils.data.IterableDataset):\\n    def __iter__(self):\\n        return iter(range(5))\\nb = list(torch.utils.data.DataLoader(D(), batch_size=2))',
    'x = torch.tensor(R(2, 3)); torch.save(x, "/tmp/_x.pt"); y = torch.load("/tmp/_x.pt")',
    'x = torch.tensor(R(2, 3)); torch.save({"a": x, "epoch": 3}, "/tmp/_x2.pt"); y = torch.load("/tmp/_x2.pt")',
    'm = nn.Linear(2, 2); opt = torch.optim.SGD(m.parameters(), lr=0.1); torch.save({"model": m.state_dict(), "opt": opt.state_dict(), "epoch": 1}, "/tmp/_ck.pt"); ck = torch.load("/tmp/_ck.pt"); m.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])',
    'g = torch.Generator().manual_seed(0); y = torch.randn(3, generator=g)',
    'y = torch.get_rng_state(); torch.set_rng_state(y)',
    'y = torch.tensor(R(3)).numpy().tolist()',
    'y = torch.tensor(R(2, 3)).argsort(dim=1, descending=True)',
    'y = torch.tensor(R(5)).sort(descending=True, stable=True)',
    'y = torch.tensor([[1, 2], [3, 4]]).flatten().tolist()',
    'y = torch.tensor(R(3, 4)).split([1, 3], dim=1)',
    'y = torch.nn.functional.one_hot(torch.tensor([0, 2]), num_classes=3).float()',
    'y = torch.tensor(R(2, 3, 4)).transpose(1, 2).reshape(2, -1)',
    'y = torch.tensor(R(4, 3)).max(dim=0).values',
    'y = torch.tensor(R(2, 3)).exp().sum(1, keepdim=True).log()',
    'h = (torch.zeros(1, 1, 4), torch.zeros(1, 1, 4)); h = tuple(v.detach() for v in h)',
    'y = torch.randint(0, 5, (1,)).item()',
    'm = nn.Embedding(10, 3, padding_idx=0, max_norm=1.0); y = m(torch.tensor([1, 2]))',
    'm = nn.Embedding(10, 3, sparse=False, scale_grad_by_freq=False); y = m(torch.tensor([1, 2]))',
    'm = nn.Linear(2, 2); n = m.weight.grad is None; m.zero_grad(set_to_none=True)',
    'm = nn.Linear(2, 2); y = m.weight.t() @ torch.ones(2)',
    'm = nn.GRUCell(3, 4); h = m(torch.tensor(R(2, 3))); h = m(torch.tensor(R(2, 3)), h)',
    'y = torch.cat([torch.zeros(0, 3), torch.ones(2, 3)])',
    'y = torch.tensor(R(2, 2, 3)).mean(dim=[0, 1])',
    'x = torch.tensor(R(3), requires_grad=True); y = x.exp(); y.retain_grad(); y.sum().backward(); assert y.grad is not None',
    'x = torch.tensor(R(3), requires_grad=True); x.register_hook(lambda g: g * 2); x.sum().backward()',
    'y = torch.tensor([1, 2, 3]).float().mean().item()',
    'y = torch.tensor(2.5).int().item()',
    'y = torch.ones(3, dtype=torch.float16)',
    'y = torch.arange(6).view(2, 3)[:, None, :].shape',
    'y = torch.tensor([[0.1, 0.9]]).argmax().item()',
    'y = torch.nn.utils.rnn.pad_sequence([torch.ones(2), torch.ones(3)], batch_first=True, padding_side="left")',
    'import math\\ny = math.exp(torch.tensor(1.5))',
    'y = torch.tensor([3, 1, 2]).sort()[0]',
    'y = list(nn.LSTM(2, 3).named_parameters())[0][0]',
    'y = sum(torch.ones(3))',
    'y = max(torch.tensor([1, 5, 3])).item()',
    'y = torch.tensor(1.0) < 2',
    'y = torch.tensor([1.0, 2.0]).to("cpu", non_blocking=True)',
    'y = torch.zeros(3).cpu().detach().numpy()',
    'x = torch.ones(2, 3); x.requires_grad = True',
    'y = torch.tensor(R(3, 4)); y.t_()',
    'l = torch.tensor(R(3)).mean(); s = f"loss {l:.4f}"',
    'y = torch.ones(3) * torch.tensor(2.0, dtype=torch.float64)',
    'from collections import OrderedDict\nm = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())])); y = m[:-1](torch.ones(1, 2)); n = list(m.state_dict())',
    'm = nn.Linear(2, 2); seen = []; h = m.register_forward_hook(lambda mod, a, out: seen.append(out.shape)); y = m(torch.ones(1, 2)); h.remove()',
    'm = nn.Module(); m.add_module("layer0", nn.Linear(2, 2)); m.register_parameter("bias", None); w = m.get_submodule("layer0").weight',
    'import copy\nm = copy.deepcopy(nn.Linear(2, 2)); y = m(torch.ones(1, 2))',
    'l = nn.ModuleList([nn.ReLU(), nn.Tanh()]); l.insert(0, nn.Identity()); del l[1]; y = l[0](torch.ones(2))',
    'm = nn.LayerNorm(4, bias=False); y = m(torch.tensor(R(2, 4)))',
]


def R(*shape):
    """Fixed normal-looking values (the same for both libraries)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    n = int(np.prod(shape)) if shape else 1
    return (np.sin(np.arange(1, n + 1) * 12.9898) * 1.7).reshape(shape).astype(np.float32)


def U(*shape):
    """Fixed values in [0, 1)."""
    return (R(*shape) / 3.5 + 0.5).astype(np.float32)


def run(lib, code):
    """The names the idiom leaves, run against ``lib`` as ``torch``."""
    names = {"torch": lib, "nn": lib.nn, "F": lib.nn.functional, "np": np, "R": R, "U": U}
    lib.manual_seed(0)
    exec(code.replace("\\n", "\n"), names)
    return names


def _tensors(names, lib):
    return {k: v for k, v in names.items() if isinstance(v, lib.Tensor)}


@pytest.mark.parametrize("code", IDIOMS)
def test_idiom_runs_as_in_pytorch(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = code.replace("/tmp/", "")
    theirs = run(torch, code)
    ours = run(tinyseq, code)
    theirs, ours = _tensors(theirs, torch), _tensors(ours, tinyseq)
    assert sorted(ours) == sorted(theirs)
    for name, t in theirs.items():
        o = ours[name]
        if OPAQUE.search(code):  # (each library's own format)
            continue
        assert tuple(o.shape) == tuple(t.shape), name
        assert np.dtype(o.dtype).name == str(t.dtype).split(".")[-1], name
        if not RANDOM.search(code):
            np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=name)
