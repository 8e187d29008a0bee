"""The built-in ops, each a ``Function`` with forward and backward side by side, grouped by kind:
``elementwise`` (and ``unary``: more math), ``rounding`` (``//``, ``%``, ``div(rounding_mode=)``),
``logic`` (``~ & |``, tests of values), ``reduce``, ``scan`` (cumsum, prod), ``stats`` (var, std),
``norms``, ``order``, ``shape``, ``index``, ``linalg``, ``einsum``, ``sample``; ``inplace`` holds the in-place
methods, recorded as in PyTorch, and ``create`` the tensors made from a tensor (``t.new_zeros``,
``t.multinomial``).

Next to each Function is the function users call (``def exp(input)``): it checks and types its
arguments, names the op and the shapes in its errors, and calls ``.apply``. That one function is
``ts.exp`` and the method ``t.exp()``.

Adding an op, say ``sin``, touches its module and ``functional.py``:

1. in ``elementwise.py``, the op and its function, and the method in that module's list::

       class Sin(Function):
           @staticmethod
           def forward(ctx, a):
               ctx.save_for_backward(a)
               return np.sin(a)

           @staticmethod
           def backward(ctx, g):
               (a,) = ctx.saved_tensors
               return g * np.cos(a)


       def sin(input):
           return Sin.apply(floating(input))

       TENSOR_METHODS = {..., "sin": sin}      # t.sin() (tensor.py attaches the list)

2. in ``autograd/functional.py``, ``sin`` in the import from ``.ops.elementwise`` and in
   ``METHODS``: ``ts.sin``.

An op that is another one under its own name (``view`` is ``reshape``) is ``Reshape.alias("view")``.
"""
