"""``ts.utils``: PyTorch's ``torch.utils`` for what sequence-model programs use, today
``ts.utils.data`` (``Dataset``, ``DataLoader``, samplers, ``random_split``)."""
from . import data

__all__ = ["data"]
