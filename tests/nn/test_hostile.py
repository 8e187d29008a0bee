"""Issue 13 for ts.nn, ts.optim: every bad argument refused in one line naming the function, the
value and the fix, where PyTorch refuses it too (checked against torch when it is installed); what
PyTorch accepts (batch 0, unbatched cross-entropy, class-probability targets) gives its values."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn, optim
from tinyseq.nn import functional as F
from tinyseq.nn.utils.rnn import pad_sequence

try:
    import torch
except ImportError:  # the refusals are still checked; the comparisons skip
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference for ts.nn")


def _w():
    return [ts.ones(2, requires_grad=True)]


def _tw():
    return [torch.ones(2, requires_grad=True)]


def _with_grad(grad):
    p = ts.ones(len(grad), requires_grad=True)
    p.grad = ts.tensor(grad)
    return p


# (ours, torch's same call or None where torch accepts it, our exception, words of our message)
REFUSED = {
    # constructors
    "Linear(-1, 4)": (lambda: nn.Linear(-1, 4), lambda: torch.nn.Linear(-1, 4),
                      ValueError, r"Linear: in_features must be an int >= 0, got -1"),
    "Linear(3.5, 4)": (lambda: nn.Linear(3.5, 4), lambda: torch.nn.Linear(3.5, 4),
                       TypeError, r"Linear: in_features must be an int, got 3.5 \(float\)"),
    "Linear('3', 4)": (lambda: nn.Linear("3", 4), lambda: torch.nn.Linear("3", 4),
                       TypeError, r"Linear: in_features must be an int, got '3' \(str\)"),
    "Linear(3, -4)": (lambda: nn.Linear(3, -4), lambda: torch.nn.Linear(3, -4),
                      ValueError, r"Linear: out_features must be an int >= 0, got -4"),
    "Embedding(-1, 4)": (lambda: nn.Embedding(-1, 4), lambda: torch.nn.Embedding(-1, 4),
                         ValueError, "Embedding: num_embeddings must be an int >= 0, got -1"),
    "Embedding(3.5, 4)": (lambda: nn.Embedding(3.5, 4), lambda: torch.nn.Embedding(3.5, 4),
                          TypeError, "Embedding: num_embeddings must be an int"),
    "Embedding padding_idx 10": (
        lambda: nn.Embedding(10, 4, padding_idx=10),
        lambda: torch.nn.Embedding(10, 4, padding_idx=10),
        ValueError, r"Embedding: padding_idx 10 is outside the 10 embeddings \(allowed: -10 to 9"),
    "Embedding padding_idx -11": (
        lambda: nn.Embedding(10, 4, padding_idx=-11),
        lambda: torch.nn.Embedding(10, 4, padding_idx=-11),
        ValueError, "Embedding: padding_idx must be an int >= -10, got -11"),
    "LayerNorm(-1)": (lambda: nn.LayerNorm(-1), lambda: torch.nn.LayerNorm(-1),
                      ValueError, "LayerNorm: normalized_shape must be an int >= 0, got -1"),
    "LayerNorm(3.5)": (lambda: nn.LayerNorm(3.5), lambda: torch.nn.LayerNorm(3.5),
                       TypeError, "LayerNorm: normalized_shape must be an int, got 3.5"),
    "LayerNorm eps -1": (lambda: nn.LayerNorm(4, eps=-1), None,  # torch: NaN at the first call
                         ValueError, r"LayerNorm: eps must be in \[0, inf\], got -1"),
    "Dropout(1.5)": (lambda: nn.Dropout(1.5), lambda: torch.nn.Dropout(1.5),
                     ValueError, r"Dropout: p must be in \[0, 1\], got 1.5"),
    "Dropout('0.5')": (lambda: nn.Dropout("0.5"), lambda: torch.nn.Dropout("0.5"),
                       TypeError, r"Dropout: p must be a number, got '0.5' \(str\)"),
    "Dropout(nan)": (lambda: nn.Dropout(float("nan")), None,  # torch: NaN at the first call
                     ValueError, r"Dropout: p must be in \[0, 1\], got nan"),
    "RNN(0, 4)": (lambda: nn.RNN(0, 4), lambda: torch.nn.RNN(0, 4),
                  ValueError, "RNN: input_size must be an int >= 1, got 0"),
    "GRU(3, 0)": (lambda: nn.GRU(3, 0), lambda: torch.nn.GRU(3, 0),
                  ValueError, "GRU: hidden_size must be an int >= 1, got 0"),
    "LSTM(3.5, 4)": (lambda: nn.LSTM(3.5, 4), lambda: torch.nn.LSTM(3.5, 4),
                     TypeError, r"LSTM: input_size must be an int, got 3.5 \(float\)"),
    "LSTM num_layers 0": (lambda: nn.LSTM(3, 4, num_layers=0),
                          lambda: torch.nn.LSTM(3, 4, num_layers=0),
                          ValueError, "LSTM: num_layers must be an int >= 1, got 0"),
    "LSTM num_layers 1.5": (lambda: nn.LSTM(3, 4, num_layers=1.5),
                            lambda: torch.nn.LSTM(3, 4, num_layers=1.5),
                            TypeError, "LSTM: num_layers must be an int, got 1.5"),
    "GRU dropout 1.5": (lambda: nn.GRU(3, 4, dropout=1.5), lambda: torch.nn.GRU(3, 4, dropout=1.5),
                        ValueError, r"GRU: dropout must be in \[0, 1\], got 1.5"),
    "GRU dropout True": (lambda: nn.GRU(3, 4, dropout=True),
                         lambda: torch.nn.GRU(3, 4, dropout=True),
                         TypeError, "GRU: dropout must be a number, got True"),
    "RNN nonlinearity": (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"),
                         lambda: torch.nn.RNN(3, 4, nonlinearity="sigmoid"),
                         ValueError, "nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"),
    "RNN bidirectional 'yes'": (lambda: nn.RNN(3, 4, bidirectional="yes"), None,  # torch: no check
                                TypeError, "RNN: bidirectional must be True or False, got 'yes'"),
    "LSTMCell(3, 0)": (lambda: nn.LSTMCell(3, 0), None,  # torch: an empty cell
                       ValueError, "LSTMCell: hidden_size must be an int >= 1, got 0"),
    "RNNCell(-1, 4)": (lambda: nn.RNNCell(-1, 4), lambda: torch.nn.RNNCell(-1, 4),
                       ValueError, "RNNCell: input_size must be an int >= 0, got -1"),
    "Module.train('no')": (lambda: nn.Linear(2, 2).train("no"),
                           lambda: torch.nn.Linear(2, 2).train("no"),
                           TypeError, "Linear.train: mode must be True or False, got 'no'"),
    "Embedding ragged ids": (lambda: nn.Embedding(5, 2)([[1, 2], [3]]), None,  # torch: no list
                             TypeError, "Embedding: expected integer .* got a ragged list"),
    "GRUCell reset_after": (lambda: nn.GRUCell(3, 4, reset_after="no"), None,
                            TypeError, "GRUCell: reset_after must be True or False"),
    "Sequential of a str": (lambda: nn.Sequential(nn.Linear(3, 4), "relu"),
                            lambda: torch.nn.Sequential(torch.nn.Linear(3, 4), "relu"),
                            TypeError, "Sequential: item 1 is a str, not a Module"),
    "ModuleList of an int": (lambda: nn.ModuleList([1]), lambda: torch.nn.ModuleList([1]),
                             TypeError, "ModuleList: item 0 is a int, not a Module"),
    "CrossEntropyLoss ignore_index 1.5": (lambda: nn.CrossEntropyLoss(ignore_index=1.5), None,
                                          TypeError, "CrossEntropyLoss: ignore_index must be an"),
    "Linear(10**15, 4)": (lambda: nn.Linear(10**15, 4), None,  # torch: an allocator error
                          MemoryError, r"Linear: 4,000,000,000,000,004 parameters need "
                                       r"[\d,]+ GiB, more than this machine's"),
    "LSTM num_layers 10**15": (lambda: nn.LSTM(3, 4, num_layers=10**15), None,  # torch: hangs
                               MemoryError, "LSTM: .* parameters need .* choose smaller sizes"),
    "Embedding(5, 10**15)": (lambda: nn.Embedding(5, 10**15), None,
                             MemoryError, "Embedding: 5,000,000,000,000,000 parameters need"),
    # layers called with bad inputs
    "Embedding id -1": (lambda: nn.Embedding(10, 4)(ts.tensor([3, -1])),
                        lambda: torch.nn.Embedding(10, 4)(torch.tensor([3, -1])),
                        IndexError, r"Embedding: id -1 is out of range for 10 embeddings \(ids "
                                    r"must be in \[0, 10\)\)"),
    "Embedding id 10": (lambda: nn.Embedding(10, 4)(ts.tensor([[10]])),
                        lambda: torch.nn.Embedding(10, 4)(torch.tensor([[10]])),
                        IndexError, "Embedding: id 10 is out of range for 10 embeddings"),
    "Embedding float ids": (lambda: nn.Embedding(10, 4)(ts.tensor([1.0])),
                            lambda: torch.nn.Embedding(10, 4)(torch.tensor([1.0])),
                            TypeError, r"Embedding: expected integer \(int64\) indices, got dtype "
                                       r"float32; convert with \.long\(\)"),
    "F.embedding id 5 of 5": (lambda: F.embedding(ts.tensor([5]), ts.randn(5, 2)),
                              lambda: torch.nn.functional.embedding(torch.tensor([5]),
                                                                    torch.randn(5, 2)),
                              IndexError, "embedding: id 5 is out of range for 5 embeddings"),
    "Linear int64 input": (lambda: nn.Linear(3, 4)(ts.ones(2, 3, dtype=ts.int64)),
                           lambda: torch.nn.Linear(3, 4)(torch.ones(2, 3, dtype=torch.long)),
                           TypeError, r"linear: input of dtype int64 cannot be multiplied by "
                                      r"float32 weights .*\.to\(ts\.float32\)"),
    "Linear numpy input": (lambda: nn.Linear(3, 4)(np.ones((2, 3), np.float32)),
                           lambda: torch.nn.Linear(3, 4)(np.ones((2, 3), np.float32)),
                           TypeError, r"linear: input must be a Tensor, got ndarray"),
    "LayerNorm wrong shape": (lambda: nn.LayerNorm(4)(ts.ones(2, 3)),
                              lambda: torch.nn.LayerNorm(4)(torch.ones(2, 3)),
                              ValueError, r"LayerNorm: normalized_shape=\(4,\) expects an input of "
                                          r"shape \(\*, 4\), got \(2, 3\)"),
    "LayerNorm int input": (lambda: nn.LayerNorm(4)(ts.ones(2, 4, dtype=ts.int64)),
                            lambda: torch.nn.LayerNorm(4)(torch.ones(2, 4, dtype=torch.long)),
                            TypeError, "LayerNorm: input must be floating-point, got dtype int64"),
    "dropout p 1.5": (lambda: F.dropout(ts.ones(3), 1.5),
                      lambda: torch.nn.functional.dropout(torch.ones(3), 1.5),
                      ValueError, r"dropout: p must be in \[0, 1\], got 1.5"),
    "softmax dim 5": (lambda: F.softmax(ts.ones(3, 4), 5),
                      lambda: torch.nn.functional.softmax(torch.ones(3, 4), 5),
                      IndexError, "softmax: dim 5 is out of range"),
    "one_hot -1": (lambda: F.one_hot(ts.tensor([-1, 2])),
                   lambda: torch.nn.functional.one_hot(torch.tensor([-1, 2])),
                   ValueError, r"one_hot: indices must be in \[0, 3\), got \[-1, 2\]"),
    "one_hot empty": (lambda: F.one_hot(ts.zeros(0, dtype=ts.int64)),
                      lambda: torch.nn.functional.one_hot(torch.zeros(0, dtype=torch.long)),
                      ValueError, "one_hot: cannot infer num_classes from empty indices"),
    "one_hot of id 10**15": (lambda: F.one_hot(ts.tensor([10**15])), None,  # torch: alloc error
                             MemoryError, "one_hot: 1,000,000,000,000,001 values need"),
    "pad_sequence []": (lambda: pad_sequence([]),
                        lambda: torch.nn.utils.rnn.pad_sequence([]),
                        ValueError, "pad_sequence: received an empty list of sequences"),
    "pad_sequence trailing dims": (
        lambda: pad_sequence([ts.ones(2, 3), ts.ones(3, 4)]),
        lambda: torch.nn.utils.rnn.pad_sequence([torch.ones(2, 3), torch.ones(3, 4)]),
        ValueError, r"pad_sequence: sequence 1 has shape \(3, 4\) but sequence 0 has \(2, 3\)"),
    "pad_sequence numpy": (
        lambda: pad_sequence([np.ones(2), np.ones(3)]),
        lambda: torch.nn.utils.rnn.pad_sequence([np.ones(2), np.ones(3)]),
        TypeError, "pad_sequence: sequence 0 must be a Tensor, got ndarray"),
    # losses
    "BCE input 1.5": (lambda: F.binary_cross_entropy(ts.tensor([1.5, .5]), ts.tensor([1., 0.])),
                      lambda: torch.nn.functional.binary_cross_entropy(
                          torch.tensor([1.5, .5]), torch.tensor([1., 0.])),
                      ValueError, r"binary_cross_entropy: all elements of input must be between "
                                  r"0 and 1, got values in \[0.5, 1.5\].*with_logits"),
    "BCE input NaN": (lambda: F.binary_cross_entropy(ts.tensor([np.nan]), ts.tensor([1.])),
                      lambda: torch.nn.functional.binary_cross_entropy(
                          torch.tensor([float("nan")]), torch.tensor([1.])),
                      ValueError, "binary_cross_entropy: all elements of input must be between"),
    "BCE target 2": (lambda: F.binary_cross_entropy(ts.tensor([.5]), ts.tensor([2.])),
                     lambda: torch.nn.functional.binary_cross_entropy(
                         torch.tensor([.5]), torch.tensor([2.])),
                     ValueError, "all elements of target must be between 0 and 1"),
    "BCE shapes": (lambda: nn.BCELoss()(ts.rand(4), ts.rand(4, 1)),
                   lambda: torch.nn.BCELoss()(torch.rand(4), torch.rand(4, 1)),
                   ValueError, r"binary_cross_entropy: target of shape \(4, 1\) must have the "
                               r"input's shape \(4,\)"),
    "BCEWithLogits shapes": (
        lambda: F.binary_cross_entropy_with_logits(ts.rand(4, 1), ts.rand(4)),
        lambda: torch.nn.functional.binary_cross_entropy_with_logits(torch.rand(4, 1),
                                                                     torch.rand(4)),
        ValueError, r"binary_cross_entropy_with_logits: target of shape \(4,\) must have"),
    "MSE shapes": (lambda: F.mse_loss(ts.rand(4), ts.rand(3)),
                   lambda: torch.nn.functional.mse_loss(torch.rand(4), torch.rand(3)),
                   ValueError, r"mse_loss: target of shape \(3,\) must have the input's shape"),
    "cross_entropy target 5 of 5": (
        lambda: F.cross_entropy(ts.randn(3, 5), ts.tensor([1, 2, 5])),
        lambda: torch.nn.functional.cross_entropy(torch.randn(3, 5), torch.tensor([1, 2, 5])),
        IndexError, r"cross_entropy: target 5 is out of bounds for 5 classes \(targets must be "
                    r"in \[0, 5\) or ignore_index=-100\)"),
    "nll_loss target -1": (
        lambda: F.nll_loss(ts.randn(3, 5), ts.tensor([1, -1, 0])),
        lambda: torch.nn.functional.nll_loss(torch.randn(3, 5), torch.tensor([1, -1, 0])),
        IndexError, "nll_loss: target -1 is out of bounds for 5 classes"),
    "cross_entropy batch sizes": (
        lambda: F.cross_entropy(ts.randn(3, 5), ts.tensor([1, 2])),
        lambda: torch.nn.functional.cross_entropy(torch.randn(3, 5), torch.tensor([1, 2])),
        ValueError, r"cross_entropy: target of shape \(2,\) does not fit input of shape \(3, 5\)"),
    "cross_entropy float labels": (
        lambda: F.cross_entropy(ts.randn(3, 5), ts.tensor([1., 2., 0.])),
        lambda: torch.nn.functional.cross_entropy(torch.randn(3, 5), torch.tensor([1., 2., 0.])),
        TypeError, r"cross_entropy: expected integer \(int64\) indices as target, got dtype "
                   r"float32 of shape \(3,\); convert with \.long\(\)"),
    "cross_entropy int logits": (
        lambda: F.cross_entropy(ts.ones(3, 5, dtype=ts.int64), ts.tensor([1, 2, 0])),
        lambda: torch.nn.functional.cross_entropy(torch.ones(3, 5, dtype=torch.long),
                                                  torch.tensor([1, 2, 0])),
        TypeError, "cross_entropy: input must be floating-point, got dtype int64"),
    "cross_entropy 0-d input": (
        lambda: F.cross_entropy(ts.tensor(1.), ts.tensor(0)),
        lambda: torch.nn.functional.cross_entropy(torch.tensor(1.), torch.tensor(0)),
        ValueError, r"cross_entropy: input must have a class dimension"),
    "cross_entropy reduction": (
        lambda: F.cross_entropy(ts.randn(3, 5), ts.tensor([1, 2, 0]), reduction="avg"),
        lambda: torch.nn.functional.cross_entropy(torch.randn(3, 5), torch.tensor([1, 2, 0]),
                                                  reduction="avg"),
        ValueError, r"cross_entropy: reduction must be one of \('mean', 'sum', 'none'\), got"),
    # recurrent layers and cells
    "LSTM T=0": (lambda: nn.LSTM(3, 4)(ts.ones(0, 2, 3)),
                 lambda: torch.nn.LSTM(3, 4)(torch.ones(0, 2, 3)),
                 ValueError, r"LSTM: the input \(T, B, input_size\) has no time steps \(shape "
                             r"\(0, 2, 3\)\); a sequence needs at least one step"),
    "LSTM numpy input": (lambda: nn.LSTM(3, 4)(np.ones((4, 2, 3), np.float32)),
                         lambda: torch.nn.LSTM(3, 4)(np.ones((4, 2, 3), np.float32)),
                         TypeError, r"LSTM: input must be a Tensor, got ndarray; convert it"),
    "LSTM 4-d input": (lambda: nn.LSTM(3, 4)(ts.ones(4, 2, 3, 1)),
                       lambda: torch.nn.LSTM(3, 4)(torch.ones(4, 2, 3, 1)),
                       ValueError, r"LSTM: expected a 3-d input \(T, B, input_size\), got shape"),
    "GRU 2-d input": (lambda: nn.GRU(3, 4, batch_first=True)(ts.ones(4, 3)), None,  # unbatched
                      ValueError, r"GRU: expected a 3-d input \(B, T, input_size\), got shape "
                                  r"\(4, 3\); for one unbatched sequence .*\.unsqueeze\(0\)"),
    "LSTM input size": (lambda: nn.LSTM(3, 4)(ts.ones(4, 2, 5)),
                        lambda: torch.nn.LSTM(3, 4)(torch.ones(4, 2, 5)),
                        ValueError, r"LSTM: input has 5 features .* input_size=3"),
    "LSTM int input": (lambda: nn.LSTM(3, 4)(ts.ones(4, 2, 3, dtype=ts.int64)),
                       lambda: torch.nn.LSTM(3, 4)(torch.ones(4, 2, 3, dtype=torch.long)),
                       TypeError, "LSTM: input of dtype int64 cannot be multiplied by float32"),
    "LSTM h_0 batch": (lambda: nn.LSTM(3, 4)(ts.ones(4, 2, 3), (ts.zeros(1, 3, 4),
                                                                 ts.zeros(1, 2, 4))),
                       lambda: torch.nn.LSTM(3, 4)(torch.ones(4, 2, 3), (torch.zeros(1, 3, 4),
                                                                         torch.zeros(1, 2, 4))),
                       ValueError, r"LSTM: h_0 must have shape \(1, 2, 4\)"),
    "LSTM hx one Tensor": (lambda: nn.LSTM(3, 4)(ts.ones(4, 2, 3), ts.zeros(1, 2, 4)),
                           lambda: torch.nn.LSTM(3, 4)(torch.ones(4, 2, 3), torch.zeros(1, 2, 4)),
                           TypeError, r"LSTM: hx must be a tuple \(h_0, c_0\) of two Tensors, "
                                      "got Tensor"),
    "GRU hx tuple": (lambda: nn.GRU(3, 4)(ts.ones(4, 2, 3), (ts.zeros(1, 2, 4),)),
                     lambda: torch.nn.GRU(3, 4)(torch.ones(4, 2, 3), (torch.zeros(1, 2, 4),)),
                     TypeError, r"GRU: hx must be a Tensor of shape \(1, 2, 4\), got tuple"),
    "GRU hx int": (lambda: nn.GRU(3, 4)(ts.ones(4, 2, 3), ts.zeros(1, 2, 4, dtype=ts.int64)),
                   lambda: torch.nn.GRU(3, 4)(torch.ones(4, 2, 3),
                                              torch.zeros(1, 2, 4, dtype=torch.long)),
                   TypeError, "GRU: hx must be floating-point, got dtype int64"),
    "RNN lengths > T": (lambda: nn.RNN(3, 4)(ts.randn(4, 2, 3), lengths=[4, 5]), None,
                        ValueError, "RNN: lengths must be between 1 and T=4, got 4..5"),
    "RNN lengths float": (lambda: nn.RNN(3, 4)(ts.randn(4, 2, 3), lengths=[4., 2.]), None,
                          ValueError, r"RNN: lengths must be 2 integers .* dtype float64"),
    "LSTMCell input size": (lambda: nn.LSTMCell(3, 4)(ts.ones(2, 5)),
                            lambda: torch.nn.LSTMCell(3, 4)(torch.ones(2, 5)),
                            ValueError, r"LSTMCell: expected an input \(B, input_size\) = "
                                        r"\(B, 3\), got shape \(2, 5\)"),
    "LSTMCell state batch": (lambda: nn.LSTMCell(3, 4)(ts.ones(2, 3), (ts.zeros(3, 4),
                                                                        ts.zeros(2, 4))),
                             lambda: torch.nn.LSTMCell(3, 4)(torch.ones(2, 3), (
                                 torch.zeros(3, 4), torch.zeros(2, 4))),
                             ValueError, r"LSTMCell: h must have shape \(2, 4\)"),
    "GRUCell numpy": (lambda: nn.GRUCell(3, 4)(np.ones((2, 3), np.float32)),
                      lambda: torch.nn.GRUCell(3, 4)(np.ones((2, 3), np.float32)),
                      TypeError, "GRUCell: input must be a Tensor, got ndarray"),
    "GRUCell hx batch": (lambda: nn.GRUCell(3, 4)(ts.ones(2, 3), ts.zeros(3, 4)),
                         lambda: torch.nn.GRUCell(3, 4)(torch.ones(2, 3), torch.zeros(3, 4)),
                         ValueError, r"GRUCell: hx must have shape \(2, 4\)"),
    # optimisers, schedulers, clipping
    "SGD lr -1": (lambda: optim.SGD(_w(), lr=-1), lambda: torch.optim.SGD(_tw(), lr=-1),
                  ValueError, "SGD: invalid learning rate -1; it must be a finite number >= 0"),
    "SGD lr inf": (lambda: optim.SGD(_w(), lr=float("inf")), None,  # torch: NaN after a step
                   ValueError, "SGD: invalid learning rate inf"),
    "SGD lr nan": (lambda: optim.SGD(_w(), lr=float("nan")), None,
                   ValueError, "SGD: learning rate must be a number, got nan"),
    "Adam lr '0.1'": (lambda: optim.Adam(_w(), lr="0.1"), lambda: torch.optim.Adam(_tw(), lr="0.1"),
                      TypeError, r"Adam: learning rate must be a number, got '0.1' \(str\)"),
    "Adam betas (0.9,)": (lambda: optim.Adam(_w(), betas=(0.9,)),
                          lambda: torch.optim.Adam(_tw(), betas=(0.9,)),
                          TypeError, r"Adam: betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    "Adam betas 0.9": (lambda: optim.Adam(_w(), betas=0.9),
                       lambda: torch.optim.Adam(_tw(), betas=0.9),
                       TypeError, r"Adam: betas must be a pair"),
    "Adam betas[1] 1": (lambda: optim.Adam(_w(), betas=(0.9, 1.0)),
                        lambda: torch.optim.Adam(_tw(), betas=(0.9, 1.0)),
                        ValueError, r"Adam: invalid betas\[1\] 1.0; it must be in \[0, 1\)"),
    "Adam eps nan": (lambda: optim.Adam(_w(), eps=float("nan")),
                     lambda: torch.optim.Adam(_tw(), eps=float("nan")),
                     ValueError, "Adam: eps must be a number, got nan"),
    "AdamW weight_decay -1": (lambda: optim.AdamW(_w(), weight_decay=-1),
                              lambda: torch.optim.AdamW(_tw(), weight_decay=-1),
                              ValueError, "AdamW: invalid weight_decay -1"),
    "SGD momentum -1": (lambda: optim.SGD(_w(), lr=.1, momentum=-1),
                        lambda: torch.optim.SGD(_tw(), lr=.1, momentum=-1),
                        ValueError, "SGD: invalid momentum -1"),
    "SGD nesterov without momentum": (
        lambda: optim.SGD(_w(), lr=.1, nesterov=True),
        lambda: torch.optim.SGD(_tw(), lr=.1, nesterov=True),
        ValueError, "SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum=0"),
    "SGD dampening nan": (lambda: optim.SGD(_w(), lr=.1, dampening=float("nan")), None,
                          ValueError, "SGD: dampening must be a number, got nan"),
    "SGD dampening None": (lambda: optim.SGD(_w(), lr=.1, dampening=None), None,
                           TypeError, "SGD: dampening must be a number, got None"),
    "SGD nesterov None": (lambda: optim.SGD(_w(), lr=.1, momentum=.9, nesterov=None), None,
                          TypeError, "SGD: nesterov must be True or False, got None"),
    "RMSprop centered 'yes'": (lambda: optim.RMSprop(_w(), centered="yes"), None,
                               TypeError, "RMSprop: centered must be True or False, got 'yes'"),
    "RMSprop alpha 2": (lambda: optim.RMSprop(_w(), alpha=2), None,  # torch: NaN after steps
                        ValueError, r"RMSprop: invalid alpha 2; it must be in \[0, 1\]"),
    "Adagrad lr_decay -1": (lambda: optim.Adagrad(_w(), lr_decay=-1),
                            lambda: torch.optim.Adagrad(_tw(), lr_decay=-1),
                            ValueError, "Adagrad: invalid lr_decay -1"),
    "empty parameter list": (lambda: optim.Adam([]), lambda: torch.optim.Adam([]),
                             ValueError, "Adam: optimizer got an empty parameter list"),
    "a parameter in two groups": (
        lambda: optim.SGD([{"params": [p]} for p in _w() * 2], lr=.1),
        lambda: torch.optim.SGD([{"params": [p]} for p in _tw() * 2], lr=.1),
        ValueError, "SGD: parameter 0 appears more than once in the parameter groups"),
    "a numpy parameter": (lambda: optim.Adam([np.ones(2)]),
                          lambda: torch.optim.Adam([np.ones(2)]),
                          TypeError, "Adam can only optimize Tensors, but parameter 0 is a nd"),
    "a group without params": (lambda: optim.Adam([{"lr": 0.1}]),
                               lambda: torch.optim.Adam([{"lr": 0.1}]),
                               TypeError, "Adam: a parameter group must be a dict with a 'params'"),
    "clip_grad_norm_ max_norm -1": (lambda: nn.utils.clip_grad_norm_([_with_grad([3., 4.])], -1),
                                    None,  # torch flips every gradient's sign
                                    ValueError, r"clip_grad_norm_: max_norm must be in \[0, inf\], "
                                                "got -1"),
    "clip_grad_norm_ norm_type 0": (lambda: nn.utils.clip_grad_norm_([_with_grad([3.])], 1, 0),
                                    None, ValueError, "clip_grad_norm_: norm_type must be > 0"),
    "clip_grad_norm_ a float": (lambda: nn.utils.clip_grad_norm_([_with_grad([3.]), 1.0], 1),
                                None, TypeError, "clip_grad_norm_: parameters must be Tensors, "
                                                 "but item 1 is a float"),
    "clip_grad_value_ -1": (lambda: nn.utils.clip_grad_value_([_with_grad([3., -4.])], -1),
                            None,  # torch sets every gradient to -1
                            ValueError, r"clip_grad_value_: clip_value must be in \[0, inf\]"),
    "StepLR step_size 0": (lambda: optim.lr_scheduler.StepLR(optim.SGD(_w(), lr=.1), 0), None,
                           ValueError, "StepLR: step_size must be positive, got 0"),
    "StepLR of a list": (lambda: optim.lr_scheduler.StepLR([1], 1),
                         lambda: torch.optim.lr_scheduler.StepLR([1], 1),
                         TypeError, "StepLR: expected an optimizer, got list"),
    "CosineAnnealingLR T_max 0": (
        lambda: optim.lr_scheduler.CosineAnnealingLR(optim.SGD(_w(), lr=.1), 0),
        lambda: torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD(_tw(), lr=.1),
                                                           0).step(),
        ValueError, "CosineAnnealingLR: T_max must be an int >= 1, got 0"),
}


@pytest.mark.filterwarnings("ignore:Using a target size", "ignore:Detected call of")
@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_in_one_line(case):
    ours, theirs, error, words = REFUSED[case]
    with pytest.raises(error, match=words) as info:
        ours()
    assert "\n" not in str(info.value)
    if theirs is not None and torch is not None:
        with pytest.raises(Exception):
            theirs()


@needs_torch
def test_recurrent_layers_with_batch_0_work_as_in_torch():
    for name in ("RNN", "GRU", "LSTM"):
        ours = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True)
        theirs = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True)
        x = ts.randn(5, 0, 3, requires_grad=True)
        out, state = ours(x)
        tout, tstate = theirs(torch.randn(5, 0, 3))
        assert out.shape == tuple(tout.shape) == (5, 0, 8)
        h, th = (state[0], tstate[0]) if name == "LSTM" else (state, tstate)
        assert h.shape == tuple(th.shape) == (4, 0, 4)
        out.sum().backward()
        assert x.grad.shape == (5, 0, 3) and not ours.weight_hh_l1.grad.numpy().any()


@needs_torch
def test_unbatched_and_probability_cross_entropy_match_torch():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 5)).astype(np.float32)
    probs = rng.dirichlet(np.ones(5), 3).astype(np.float32)
    for x, target in [(logits[0], np.array(2)), (logits, probs), (logits[0], probs[0])]:
        ours_x, theirs_x = ts.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        for reduction in ("mean", "sum", "none"):
            ours = F.cross_entropy(ours_x, ts.tensor(target), reduction=reduction)
            theirs = torch.nn.functional.cross_entropy(theirs_x, torch.tensor(target),
                                                       reduction=reduction)
            np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-5, atol=1e-7)


@needs_torch
def test_every_target_ignored_gives_nan_as_torch():
    x, y = np.ones((2, 3), np.float32), np.array([-100, -100])
    ours = F.cross_entropy(ts.tensor(x), ts.tensor(y))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())


@needs_torch
def test_what_torch_accepts_we_accept():
    rnn = nn.GRU(3, 4, num_layers=2, dropout=1.0)  # [0, 1], as torch
    assert rnn.dropout == 1.0 and torch.nn.GRU(3, 4, num_layers=2, dropout=1.0).dropout == 1.0
    assert nn.Embedding(10, 4, padding_idx=-1).padding_idx == 9
    assert F.one_hot(ts.zeros(0, dtype=ts.int64), 3).shape == (0, 3)
    assert nn.Linear(0, 4)(ts.ones(2, 0)).shape == (2, 4)


@needs_torch
def test_clip_grad_norm_of_a_nan_gradient_is_nan_as_torch_or_raises():
    p = _with_grad([3., np.nan])
    q = torch.ones(2, requires_grad=True)
    q.grad = torch.tensor([3., float("nan")])
    assert np.isnan(nn.utils.clip_grad_norm_([p], 1.0).item())
    torch.nn.utils.clip_grad_norm_([q], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())  # all NaN: nothing half-clipped
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of the gradients is "
                                           "inf, so they cannot be clipped"):
        nn.utils.clip_grad_norm_([_with_grad([np.inf])], 1.0, error_if_nonfinite=True)


def _snapshot(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("bad, error, words", [
    (np.ones(2, np.complex64), TypeError, "1.bias: a complex64 value cannot be copied into a "
                                          "float32 parameter"),
    ("text", TypeError, "1.bias: a <U4 value cannot be copied"),
    (np.array([object(), object()]), TypeError, "1.bias: a object value cannot be copied"),
    ([[1.0], [1.0, 2.0]], TypeError, "1.bias: cannot be read as an array"),
    (np.ones(3), ValueError, r"shape mismatch for 1.bias: the checkpoint has \(3,\), the model "
                             r"has \(2,\)"),
])
def test_load_state_dict_is_all_or_nothing(bad, error, words):
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    before = _snapshot(model)
    good = {k: np.full_like(v, 7.0) for k, v in before.items()}
    with pytest.raises(error, match=f"load_state_dict for Sequential: nothing was loaded: {words}"):
        model.load_state_dict({**good, "1.bias": bad})  # three good keys come first
    after = _snapshot(model)
    assert all(after[k].tobytes() == before[k].tobytes() for k in before)


@needs_torch
def test_load_state_dict_casts_and_names_keys_as_torch():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    values = {"weight": np.arange(6.0).reshape(2, 3), "bias": np.array([np.nan, 1])}  # float64
    ours.load_state_dict(values)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in values.items()})
    assert ours.weight.numpy().dtype == np.float32
    np.testing.assert_array_equal(ours.bias.numpy(), theirs.bias.detach().numpy())  # NaN loads
    with pytest.raises(ValueError, match="missing keys: bias; unexpected keys: extra"):
        ours.load_state_dict({"weight": values["weight"], "extra": 1})
    with pytest.raises(RuntimeError, match='(?s)Missing key.*"bias".*Unexpected key.*"extra"'):
        theirs.load_state_dict({"weight": torch.zeros(2, 3), "extra": torch.zeros(1)})
    assert ours.load_state_dict({"weight": np.ones((2, 3))}, strict=False) == (["bias"], [])
    with pytest.raises(TypeError, match="load_state_dict for Linear: expected a dict-like"):
        ours.load_state_dict([1])


def test_optimizer_load_state_dict_is_all_or_nothing():
    p = ts.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ts.ones(3)
    opt.step()
    saved = opt.state_dict()
    other = optim.Adam([ts.ones(2, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match=r"loaded state has shape \(3,\) for a parameter of "
                                         r"shape \(2,\)"):
        other.load_state_dict(saved)
    assert other.state == {} and other.param_groups[0]["lr"] == 0.5
    bad_lr = {**saved, "param_groups": [{**saved["param_groups"][0], "lr": -1}]}
    with pytest.raises(ValueError, match="Adam: invalid learning rate -1"):
        opt.load_state_dict(bad_lr)
    assert opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(TypeError, match=r"Adam.load_state_dict: expected a dict with 'state' "
                                        r"and 'param_groups' .*got a dict with keys \['foo'\]"):
        opt.load_state_dict({"foo": 1})


@needs_torch
def test_clipping_an_infinite_norm_is_silent_and_as_torch():
    p = ts.ones(3, requires_grad=True)
    p.grad = ts.tensor([float("inf"), 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = ts.nn.utils.clip_grad_norm_([p], 1.0)
    q = torch.ones(3, requires_grad=True)
    q.grad = torch.tensor([float("inf"), 1.0, 2.0])
    assert total.item() == torch.nn.utils.clip_grad_norm_([q], 1.0).item() == float("inf")
    np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())  # [nan, 0, 0]


def test_what_torch_accepts_is_accepted():
    assert pad_sequence([ts.zeros(2, 3, dtype=ts.float64), ts.ones(4, 3)]).dtype == ts.float64
    assert ts.nn.Linear(3, 4, bias=0).bias is None
    assert ts.nn.LSTMCell(3, 4, bias=0).bias_ih is None
    assert ts.nn.LayerNorm(4, elementwise_affine=0).weight is None


def test_load_state_dict_names_a_dtype_error_as_one_whatever_the_key():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.shape_head = nn.Linear(2, 2)  # a key that starts like a shape message

    model = Model()
    sd = dict(model.state_dict(), **{"shape_head.weight": np.ones((2, 2), np.complex64)})
    with pytest.raises(ts.DTypeError, match="shape_head.weight: a complex64 value cannot"):
        model.load_state_dict(sd)
