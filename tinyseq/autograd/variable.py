"""``ts.autograd.Variable``: PyTorch's pre-0.4 wrapper, kept because old tutorials still write
``Variable(t, requires_grad=True)``. As in torch it is not a wrapper any more: it returns a Tensor
(the data detached, sharing its memory) and every Tensor counts as a Variable."""
from .tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: ``data`` (a Tensor) detached, requiring grad if
    asked; ``.data``, ``.grad`` and ``.backward()`` are the Tensor's.

    >>> import tinyseq as ts
    >>> from tinyseq.autograd import Variable
    >>> v = Variable(ts.ones(2), requires_grad=True)
    >>> (v * 3).sum().backward()
    >>> v.grad.tolist(), isinstance(v, Variable)
    ([3.0, 3.0], True)
    """

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable: data has to be a tensor, but got {type(data).__name__}; "
                            "wrap it with ts.tensor(...) (or just use the tensor: Variable is "
                            "deprecated)")
        return data.detach().requires_grad_(bool(requires_grad))
