"""A user's op for the tests of what an engine mode asks of a Function: ``Cube`` has forward and
backward only (first order), and its subclasses add one mode each."""
from tinyseq.autograd import Function


class Cube(Function):
    """``a³``, first order only: create_graph and forward mode refuse it by name."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (a * a) * 3


class TwiceCube(Cube):
    """... whose backward, as written, also works on Tensors: differentiable again."""

    name = "cube"
    graph_backward = Cube.__dict__["backward"]  # (the staticmethod itself)


class ForwardCube(Cube):
    """... with the tangent rule: ``3a² t``."""

    name = "cube"

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        return 3 * a * a * t
