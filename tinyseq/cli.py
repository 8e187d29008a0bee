"""The ``tinyseq`` command."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tinyseq", description=__doc__)
    parser.add_subparsers(dest="command", required=True)
    parser.parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
