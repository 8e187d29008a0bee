"""Optimisers that match ``torch.optim``'s updates, and learning-rate schedulers.

>>> import tinyseq as ts, tinyseq.optim
>>> w = ts.tensor([1.0, 2.0], requires_grad=True)
>>> opt = ts.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()  # grad = 2w
>>> opt.step()
>>> w.tolist()
[0.8, 1.6]
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "lr_scheduler"]
