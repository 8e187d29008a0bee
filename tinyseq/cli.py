"""The ``tinyseq`` command: ``tinyseq demo`` trains a small language model and samples from it."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tinyseq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="train a character RNN on the embedded names and sample from it",
        description="Train a character-level RNN language model on the embedded names corpus "
                    "(about 15 s on 2 cores), then print names sampled from it.")
    demo.add_argument("--steps", type=int, default=3000, help="SGD steps (default 3000)")
    demo.add_argument("--hidden", type=int, default=128, help="hidden units n_a (default 128)")
    demo.add_argument("--samples", type=int, default=8, help="names to sample (default 8)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.steps < 1 or args.hidden < 1 or args.samples < 0:
            parser.error("demo: --steps and --hidden must be positive, --samples not negative")
        from . import demo as demo_module
        demo_module.run(steps=args.steps, hidden=args.hidden, samples=args.samples, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
