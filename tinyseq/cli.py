"""The ``tinyseq`` command: ``demo`` trains a small language model and samples from it; ``graph``
draws an unrolled recurrent layer's computation graph; ``gradflow`` plots the gradient flowing back
through time in RNN, GRU and LSTM layers."""
import argparse
import sys
from pathlib import Path


class _Parser(argparse.ArgumentParser):
    """argparse, but a user error is one line (``tinyseq: error: ...``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"tinyseq: error: {message}\n")


def main(argv=None):
    parser = _Parser(prog="tinyseq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="train a character RNN on the embedded names and sample from it",
        description="Train a character-level RNN language model on the embedded names corpus "
                    "(about 15 s on 2 cores), then print names sampled from it.")
    demo.add_argument("--steps", type=int, default=3000, help="SGD steps (default 3000)")
    demo.add_argument("--hidden", type=int, default=128, help="hidden units n_a (default 128)")
    demo.add_argument("--samples", type=int, default=8, help="names to sample (default 8)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    graph = commands.add_parser(
        "graph", help="draw the computation graph of a recurrent layer unrolled over time",
        description="Draw the autograd graph of an RNN, GRU or LSTM layer unrolled over --steps "
                    "steps, after a backward pass, each box coloured by its gradient norm.")
    graph.add_argument("--cell", choices=("rnn", "gru", "lstm"), default="lstm",
                       help="the recurrent cell (default lstm)")
    graph.add_argument("--steps", type=int, default=4, help="time steps (default 4)")
    graph.add_argument("--layers", type=int, default=1, help="stacked layers (default 1)")
    graph.add_argument("--collapse", choices=("steps", "modules"), default=None,
                       help="fold each time step (or module) into one box")
    graph.add_argument("--out", default="graph.svg",
                       help="output file: .svg, .png, .pdf or .dot (default graph.svg)")

    flow = commands.add_parser(
        "gradflow", help="plot how the gradient vanishes back through time, per cell",
        description="Plot the norm of dL/dh<t> at every step t of RNN, GRU and LSTM layers "
                    "(L the sum of the last step's output), on a log axis. Needs matplotlib: "
                    "pip install 'tinyseq[plot]'.")
    flow.add_argument("--cells", default="rnn,gru,lstm",
                      help="comma-separated cells (default rnn,gru,lstm)")
    flow.add_argument("--steps", type=int, default=50, help="time steps (default 50)")
    flow.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    flow.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    flow.add_argument("--out", default="gradflow.png",
                      help="output file: .png, .svg or .pdf (default gradflow.png)")

    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.steps < 1 or args.hidden < 1 or args.samples < 0:
            parser.error("demo: --steps and --hidden must be positive, --samples not negative")
        from . import demo as demo_module
        demo_module.run(steps=args.steps, hidden=args.hidden, samples=args.samples, seed=args.seed)
    elif args.command == "graph":
        _graph(parser, args)
    else:
        _gradflow(parser, args)
    return 0


def _graph(parser, args):
    from . import figures, viz

    if args.steps < 1 or args.layers < 1:
        parser.error("graph: --steps and --layers must be positive")
    _check_out(parser, "graph", args.out, viz.FORMATS)
    try:
        drawing = figures.unrolled_graph(args.cell, args.steps, args.layers,
                                         collapse=args.collapse)
    except viz.GraphTooLarge as error:
        advice = (f"use fewer steps or layers" if args.collapse else "add --collapse steps")
        how = f"folded by --collapse {args.collapse}" if args.collapse else "in full"
        parser.error(f"graph: {args.steps} steps {how} make {error.nodes} boxes, more than "
                     f"{error.limit} can be read: {advice}")
    print(f"wrote {viz.render(drawing, args.out)}")


def _gradflow(parser, args):
    from . import figures, viz

    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in figures.CELLS]
    if not cells or unknown:
        parser.error(f"gradflow: --cells takes a comma-separated list of {', '.join(figures.CELLS)}"
                     f"; got {args.cells!r}")
    if args.steps < 1 or args.hidden < 1:
        parser.error("gradflow: --steps and --hidden must be positive")
    _check_out(parser, "gradflow", args.out, ("png", "svg", "pdf"))
    curves = figures.gradient_flows(cells, args.steps, hidden_size=args.hidden, seed=args.seed)
    try:
        path = viz.plot_gradient_flow(curves, args.out, title=f"gradient flow back through "
                                      f"{args.steps} steps (hidden size {args.hidden})")
    except ImportError as error:
        parser.error(f"gradflow: {error}")
    print(f"wrote {path}")
    for cell, curve in curves.items():
        print(f"  {cell:>4}: ‖∂L/∂h⟨t⟩‖ = {curve[-1]:.2e} at t={len(curve) - 1}, "
              f"{curve[0]:.2e} at t=0")


def _check_out(parser, command, out, formats):
    """A user error (exit 2) before any work: a suffix we cannot write or a missing folder."""
    path = Path(out)
    if path.suffix.lower().lstrip(".") not in formats:
        parser.error(f"{command}: --out {out!r}: the suffix must be one of "
                     + ", ".join("." + f for f in formats))
    if not path.parent.is_dir():
        parser.error(f"{command}: --out {out!r}: the folder {str(path.parent)!r} does not exist")


if __name__ == "__main__":
    sys.exit(main())
