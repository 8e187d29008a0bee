"""Runnable examples: ``python -m tinyseq.app.examples.classify`` and ``... .dates``."""
