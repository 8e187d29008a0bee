"""Forward hooks on modules, as PyTorch's: ``module.register_forward_pre_hook(fn)`` and
``module.register_forward_hook(fn)`` (to capture activations, or change inputs and outputs),
each returning a handle whose ``remove()`` takes the hook off."""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()``, or ``with handle:``."""

    def __init__(self, hooks):
        self.hooks_dict_ref, self.id = hooks, next(_ids)

    def remove(self):
        self.hooks_dict_ref.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add(hooks, hook, owner):
    """``hook`` kept in ``hooks`` (a dict in call order); its handle."""
    if not callable(hook):
        raise TypeError(f"{owner}: the hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def call(module, args, kwargs):
    """``module.forward(*args, **kwargs)`` between its hooks: a pre-hook ``fn(module, args)`` may
    return new args (a tuple, or one value); a hook ``fn(module, args, output)`` a new output."""
    for hook in list(module._forward_pre_hooks.values()):
        changed = hook(module, args)
        if changed is not None:
            args = changed if isinstance(changed, tuple) else (changed,)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        changed = hook(module, args, output)
        if changed is not None:
            output = changed
    return output
