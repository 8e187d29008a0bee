"""The built-in ops, each a ``Function`` with forward and backward side by side, grouped by kind:

- math: ``elementwise`` (arithmetic: ``+ - * / **``), ``activations`` (``exp log sqrt abs tanh
  sigmoid relu``), ``unary`` (more math of one input), ``special`` (``erf``, ``softplus``),
  ``rounding`` (``//``, ``%``, ``div(rounding_mode=)``);
- choosing values: ``selection`` (``clamp``, ``where``, ``masked_fill``, comparisons, ``to``,
  ``clone``), ``logic`` (``~ & |``, tests of values);
- reductions: ``reduce`` (sum, mean, softmax), ``extrema`` (max, min, amax, maximum, argmax),
  ``order`` (sort, topk, kthvalue, median, mode), ``scan`` (cumsum, prod), ``stats`` (var, std),
  ``norms``;
- moving elements: ``shape``, ``layout`` (repeat, roll, movedim, the ``*_as`` forms), ``joins``
  (split, chunk, unbind, cat, stack), ``index`` (``t[i]``), ``gather`` (gather, scatter,
  index_select), ``diagonal`` (tril, triu, diag), ``pad``;
- products: ``linalg``, ``einsum``, ``conv`` and ``pool`` (1-d convolutions and poolings);
- ``sample`` (bernoulli), ``create`` (the tensors made from a tensor: ``t.new_zeros``,
  ``t.multinomial``) and ``inplace`` (the in-place methods, recorded as in PyTorch; a write
  through a view: ``view_writes``); ``_util`` holds the helpers they share.

Next to each Function is the function users call (``def exp(input)``): it checks and types its
arguments, names the op and the shapes in its errors, and calls ``.apply``. That one function is
``ts.exp`` and the method ``t.exp()``.

Adding an op, say ``tan``, touches its module and ``namespace.py``:

1. in ``unary.py``, the op and its function, and the method in that module's list::

       class Tan(Function):
           @staticmethod
           def forward(ctx, a):
               result = np.tan(a)
               ctx.save_for_backward(result)
               return result

           @staticmethod
           def backward(ctx, g):
               (result,) = ctx.saved_tensors
               return g * (1 + result * result)      # d tan(a) = 1 + tan(a)^2

           graph_backward = backward  # the same on Tensors: a gradient to differentiate again
           jvp = backward             # forward mode: a tangent is scaled by the same derivative


       def tan(input):
           return Tan.apply(floating(input))

       TENSOR_METHODS = {..., "tan": tan}      # t.tan() (tensor.py attaches the list)

2. in ``autograd/namespace.py``, ``tan`` in the import from ``.ops.unary`` and in
   ``METHODS``: ``ts.tan``.

``graph_backward`` (the gradient in tinyseq's ops, for ``create_graph=True``), ``jvp`` (forward
mode's tangent rule) and ``linear = True`` (an op linear in its tensors) are ``Function``'s
(``function.py``); an op without them refuses those two modes, naming itself.

An op that is another one under its own name (``view`` is ``reshape``) is ``Reshape.alias("view")``.
"""
