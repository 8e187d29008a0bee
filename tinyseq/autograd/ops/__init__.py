"""The built-in ops, each a ``Function`` with forward and backward side by side, grouped by kind."""
