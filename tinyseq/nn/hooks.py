"""Forward hooks on modules, as PyTorch's: ``module.register_forward_pre_hook(fn)`` and
``module.register_forward_hook(fn)`` (to capture activations, or change inputs and outputs). Each
returns autograd's ``RemovableHandle``, the one a tensor's ``register_hook`` returns."""
from ..autograd.tensor import RemovableHandle


def add(hooks, hook, owner):
    """``hook`` appended to ``hooks`` (a deque, in call order); its handle."""
    if not callable(hook):
        raise TypeError(f"{owner}: the hook must be callable, got {type(hook).__name__}")
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def call(module, args, kwargs):
    """``module.forward(*args, **kwargs)`` between its hooks: a pre-hook ``fn(module, args)`` may
    return new args (a tuple, or one value); a hook ``fn(module, args, output)`` a new output."""
    for hook in list(module._forward_pre_hooks):
        changed = hook(module, args)
        if changed is not None:
            args = changed if isinstance(changed, tuple) else (changed,)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks):
        changed = hook(module, args, output)
        if changed is not None:
            output = changed
    return output
