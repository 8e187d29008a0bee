"""All parameters as one flat vector and back (torch's ``nn.utils.convert_parameters``): for
optimisers that think in vectors, or for comparing models."""
import math

from ...autograd.namespace import cat
from ...autograd.tensor import Tensor


def _tensors(parameters, op):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected Tensors, but item {i} is a {type(p).__name__}")
    return params


def parameters_to_vector(parameters):
    """The parameters flattened and joined, in order, into one 1-d tensor (in the graph: its
    gradient flows back to each parameter)."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: expects at least one parameter")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-d ``vec`` into the parameters' values (their ``.data``),
    in order; ``vec`` must hold exactly as many elements as they do."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, got "
                        f"{type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-dimensional, got shape {vec.shape}")
    params = _tensors(parameters, "vector_to_parameters")
    total = sum(math.prod(p.shape) for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} elements, the parameters "
                         f"{total}")
    start = 0
    for p in params:
        n = math.prod(p.shape)
        p.data = vec.data[start:start + n].reshape(p.shape)
        start += n
