"""Seeing the graph: ``draw_graph`` draws what autograd recorded, one cluster per module and time
step; ``render`` writes it to svg/png/pdf/dot with or without a system graphviz;
``gradient_flow`` measures ‖∂L/∂h⟨t⟩‖ through time and ``plot_gradient_flow`` plots it.
"""
from .animate import BackwardWalk, animate_backward
from .draw import GraphTooLarge, draw_graph
from .flow import gradient_flow, plot_gradient_flow
from ..autograd.record import record_grad_norms
from .render import FORMATS, render

__all__ = ["draw_graph", "render", "gradient_flow", "plot_gradient_flow", "record_grad_norms",
           "GraphTooLarge", "FORMATS", "animate_backward", "BackwardWalk"]
