"""The autodiff engine: Tensor, Function, the backward walk, grad modes, gradcheck, scopes and
anomaly detection. It knows nothing of layers.

``tensor.py`` the Tensor (data, grad, autograd API); ``function.py`` Function and its ``apply``;
``node.py`` the graph's nodes; ``toposort.py`` the one walk of the graph; ``engine.py`` the backward
walk; ``ops/`` every op, its derivative and its argument checks (``ops/__init__.py`` says how to add
one); ``namespace.py`` the ops as ``ts.NAME``; ``dtypes.py`` how values are typed; ``views.py``
views and the version counters that catch in-place changes; ``observers.py`` how a tool watches the
graph, and ``record.py`` the observer that keeps what ``ts.viz`` draws. ``higher.py`` gradients
that are graphs (``create_graph=True``), ``forward_ad.py`` forward mode, ``functional.py``
Jacobians and Hessians, as ``torch.autograd.functional``.
"""
from .tensor import Tensor  # noqa: I001  (first: the modules below import it)
from .anomaly import AnomalyError
from .engine import backward, grad
from .function import Context, Function
from .node import Node
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import forward_ad, functional  # modules, as torch.autograd.forward_ad and .functional
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, scope, set_grad_enabled
from .variable import Variable
from .record import record_grad_norms
from .errors import DTypeError, OutOfRangeError, ShapeError

__all__ = ["Tensor", "Function", "Context", "Node", "backward", "grad", "gradcheck",
           "gradgradcheck", "GradcheckError", "forward_ad", "functional", "scope",
           "detect_anomaly", "AnomalyError", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled", "Variable", "record_grad_norms", "ShapeError", "DTypeError",
           "OutOfRangeError"]
