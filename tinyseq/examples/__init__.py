"""Runnable examples: ``python -m tinyseq.examples.classify`` and ``... .dates``."""
