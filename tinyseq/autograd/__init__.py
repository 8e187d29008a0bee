"""The autodiff engine: Tensor, Function, the backward walk, grad modes, gradcheck, scopes and
anomaly detection. It knows nothing of layers."""
from .tensor import Tensor  # noqa: I001  (first: the modules below import it)
from .anomaly import AnomalyError
from .engine import backward, grad
from .function import Context, Function, Node
from .gradcheck import GradcheckError, gradcheck
from .mode import (detect_anomaly, enable_grad, is_grad_enabled, no_grad, record_grad_norms,
                   scope)
from .errors import DTypeError, OutOfRangeError, ShapeError

__all__ = ["Tensor", "Function", "Context", "Node", "backward", "grad", "gradcheck",
           "GradcheckError", "scope", "detect_anomaly", "AnomalyError", "no_grad", "enable_grad",
           "is_grad_enabled", "record_grad_norms", "ShapeError", "DTypeError",
           "OutOfRangeError"]
