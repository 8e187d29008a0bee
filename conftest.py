"""The test session: BLAS single-threaded (as the ``tinyseq`` command runs it), and doctests whose
example needs an optional extra skip, saying which, when it is not installed (the README's test
command installs only the test extra)."""
import importlib.util
import os

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads (tinyseq/app/tuning.py)

NEEDS = {"plot_gradient_flow": ("matplotlib", "plot")}  # doctest name -> (module, extra)


def pytest_collection_modifyitems(items):
    for item in items:
        for name, (module, extra) in NEEDS.items():
            if item.name.endswith(name) and importlib.util.find_spec(module) is None:
                item.add_marker(pytest.mark.skip(
                    reason=f"{name} needs {module}: pip install -e '.[{extra}]'"))
