"""Modules and parameters, layers, losses and utilities, composed from autograd ops."""
from . import functional, init, utils  # noqa: F401
from ._checks import DTypeError, OutOfRangeError
from .cells import GRUCell, LSTMCell, RNNCell
from .attention import MultiheadAttention
from .activations import ELU, GELU, LeakyReLU, SiLU, Softplus
from .conv import Conv1d, ConvTranspose1d
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import (Dropout, Embedding, Flatten, Identity, LayerNorm, Linear, LogSoftmax, ReLU,
                     Sigmoid, Softmax, Tanh, Unflatten)
from .normalization import BatchNorm1d
from .pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .losses import (CosineEmbeddingLoss, CTCLoss, GaussianNLLLoss, HuberLoss, KLDivLoss,
                     L1Loss, MarginRankingLoss, PoissonNLLLoss, SmoothL1Loss)
from .recurrent import GRU, LSTM, RNN
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
from .module import Module, Parameter, evaluating

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Embedding", "Dropout",
           "Tanh", "Sigmoid", "ReLU", "Softmax", "LogSoftmax", "LayerNorm", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "RNNCell", "GRUCell", "LSTMCell",
           "RNN", "GRU", "LSTM", "evaluating", "functional", "init", "utils", "DTypeError",
           "OutOfRangeError", "ModuleDict", "ParameterList", "ParameterDict", "GELU", "SiLU",
           "LeakyReLU", "ELU", "Softplus", "Identity", "Flatten", "Unflatten", "MultiheadAttention",
           "Transformer", "TransformerEncoder", "TransformerEncoderLayer", "TransformerDecoder",
           "TransformerDecoderLayer", "BatchNorm1d", "Conv1d", "ConvTranspose1d", "MaxPool1d",
           "AvgPool1d", "AdaptiveMaxPool1d", "AdaptiveAvgPool1d", "L1Loss", "SmoothL1Loss",
           "HuberLoss", "KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss"]
