"""``ts.linalg``, as much of ``torch.linalg`` as sequence models use: the norms
(``vector_norm``, ``matrix_norm``, ``norm``) and ``matmul``, each defined in ``ops/``."""
from .ops.linalg import matmul  # noqa: F401
from .ops.norms import linalg_norm as norm  # noqa: F401
from .ops.norms import matrix_norm, vector_norm  # noqa: F401

__all__ = ["norm", "vector_norm", "matrix_norm", "matmul"]
