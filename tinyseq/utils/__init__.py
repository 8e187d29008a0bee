"""``ts.utils``: PyTorch's ``torch.utils`` for what sequence-model programs use:
``ts.utils.data`` (``Dataset``, ``DataLoader``, samplers, ``random_split``) and
``ts.utils.checkpoint`` (``checkpoint``, ``checkpoint_sequential``: activations recomputed in
backward instead of kept)."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
