"""``programs.py`` imports PyTorch: without it, the module is not collected for doctests (the
fuzzer's tests in ``test_fuzz_torch.py`` skip, saying why)."""
import importlib.util

collect_ignore = [] if importlib.util.find_spec("torch") else ["programs.py"]
