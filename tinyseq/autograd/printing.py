"""How a tensor prints: PyTorch's layout, digit for digit (``torch/_tensor_str.py`` on numpy).

One width for every element, chosen by looking at them all (or, for a big tensor, at the corners
that are shown): whole-valued floats print as ``1.``; others with ``precision`` decimals
(``1.2346``); scientific notation (``1.0000e-08``) when the non-zero magnitudes span more than
1000x, exceed 1e8, or (not whole) go below 1e-4. Tensors with more than ``threshold`` elements
show ``edgeitems`` at each end of every dimension, with ``...`` between. ``ts.set_printoptions``
changes these for the whole process, as ``torch.set_printoptions`` does; nothing else does.
"""
import math
from dataclasses import dataclass

import numpy as np


@dataclass
class _Options:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None  # None: chosen per tensor; True / False: forced


OPTIONS = _Options()
_PROFILES = {"default": _Options(), "short": _Options(precision=2, edgeitems=2),
             "full": _Options(threshold=math.inf)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """``torch.set_printoptions``: ``profile`` ("default", "short", "full") first, then each value
    given; ``sci_mode=None`` goes back to choosing per tensor. A bad value is refused here, in one
    line and with nothing changed (torch takes it and fails at the next print)."""
    for name, value, low in (("precision", precision, 0), ("threshold", threshold, 0),
                             ("edgeitems", edgeitems, 0), ("linewidth", linewidth, 1)):
        kinds = (int, float) if name == "threshold" else int  # (threshold: sys.maxsize or inf)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)
                                  or not value >= low):
            raise ValueError(f"set_printoptions: {name} must be a number >= {low}"
                             f"{'' if name == 'threshold' else ' (an int)'}, got {value!r}")
    if sci_mode not in (None, True, False):
        raise ValueError(f"set_printoptions: sci_mode must be None, True or False, got "
                         f"{sci_mode!r}")
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(profile={profile!r}): the profiles are "
                             f"{', '.join(map(repr, _PROFILES))}")
        for field, value in vars(_PROFILES[profile]).items():
            setattr(OPTIONS, field, value)
    for field, value in (("precision", precision), ("threshold", threshold),
                         ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, field, value)
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """The one width and notation of every element of ``a`` (the shown elements)."""

    def __init__(self, a):
        self.floating = a.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        values = a.reshape(-1).tolist()
        if not self.floating:
            self.max_width = max([len(str(v)) for v in values], default=1)
        else:
            finite = a[np.isfinite(a) & (a != 0)].astype(np.float64)
            if finite.size:
                self._measure(finite)

    def _measure(self, finite):
        big, small = np.abs(finite).max(), np.abs(finite).min()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = (big / small > 1000.0 or big > 1.0e8 or small < 1.0e-4
                         if OPTIONS.sci_mode is None else OPTIONS.sci_mode)
        if self.sci_mode:
            lengths = [len(f"{v:.{OPTIONS.precision}e}") for v in finite.tolist()]
        elif self.int_mode:  # room for the "." that says "float"
            lengths = [len(f"{v:.0f}") + 1 for v in finite.tolist()]
        else:
            lengths = [len(f"{v:.{OPTIONS.precision}f}") for v in finite.tolist()]
        self.max_width = max(self.max_width, *lengths)

    def format(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{OPTIONS.precision}f}"
        return " " * (self.max_width - len(text)) + text


def _shown(a):
    """The elements a summarized print shows: ``edgeitems`` at each end of every dimension."""
    if a.ndim == 0:
        return a
    n = OPTIONS.edgeitems
    if a.shape[0] > 2 * n:
        a = np.concatenate([a[:n], a[-n:]])
    return np.stack([_shown(row) for row in a]) if a.ndim > 1 else a


def _vector(a, indent, summarize, formatter):
    per_line = max(1, (OPTIONS.linewidth - indent) // (formatter.max_width + 2))
    n = OPTIONS.edgeitems
    if summarize and not n:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * n:
        data = ([formatter.format(v) for v in a[:n].tolist()] + [" ..."]
                + [formatter.format(v) for v in a[-n:].tolist()])
    else:
        data = [formatter.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, formatter):
    if a.ndim == 0:
        return formatter.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, formatter)
    n = OPTIONS.edgeitems
    rows = range(a.shape[0])
    if summarize and a.shape[0] > 2 * n:
        rows = [*range(n), None, *range(a.shape[0] - n, a.shape[0])]
    slices = ["..." if i is None else _nested(a[i], indent + 1, summarize, formatter) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def array_str(a, indent):
    """The body of a tensor's print (what sits inside ``tensor(...)``), ``indent`` columns in."""
    if a.size == 0:
        return "[]"
    summarize = a.size > OPTIONS.threshold
    formatter = _Formatter(_shown(a) if summarize else a)
    return _nested(a, indent, summarize, formatter)


def with_suffixes(text, suffixes, indent):
    """``text`` + ``, suffix`` each, a suffix on a line of its own when the line would pass
    ``linewidth``; then the closing parenthesis."""
    parts, last_line = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"
