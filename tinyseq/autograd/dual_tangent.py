"""The node a tangent gets when ``forward_ad.unpack_dual`` hands it out from a primal that is in a
backward graph: reverse mode over forward mode stops there, in one clear line.

In torch a tangent can itself be differentiated in reverse mode (its tangent rules run as ops
that record a graph). tinyseq's tangent rules work on numpy arrays: a tangent is a value with no
graph. Handed out as a plain constant, a loss that uses it would get a gradient that silently
leaves out everything that flows through the tangent; with this node in between, such a backward
walk refuses instead. (Forward over reverse, a gradient made with ``create_graph=True`` inside a
dual level, works: ``higher.py``.)
"""
from .forward_ad import MESSAGE
from .function import Function


class TangentOf(Function):
    """``tangent`` ``(*)``, the values of the primal ``(*)``'s tangent; its gradient refuses."""

    name = "tangent"

    @staticmethod
    def forward(ctx, primal, tangent):
        return tangent

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"backward: {MESSAGE}")

    @staticmethod
    def graph_backward(ctx, g):
        raise RuntimeError(f"backward: {MESSAGE}")
