"""Ready models built from ``ts.nn``: the character-level language model (``CharLM``), a
many-to-one sequence classifier and an encoder-decoder (seq2seq)."""
from .charlm import CharLM
from .classifier import SequenceClassifier
from .seq2seq import Seq2Seq

__all__ = ["CharLM", "SequenceClassifier", "Seq2Seq"]
