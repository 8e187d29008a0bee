"""The README's test command on a machine without PyTorch: every test module must collect, the
ones that compare with torch skipped whole (``tests/torch_compare.py``'s import), none failing to
import. Checked by collecting the suite in a process where torch cannot be imported (its
``sys.modules`` entry is None, set by a ``sitecustomize`` on the path: ``import torch`` fails and
``importlib.util.find_spec("torch")`` finds nothing, as on a machine without it)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_module_collects_without_torch(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "tests"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    last = done.stdout.splitlines()[-1]
    assert "tests collected" in last and "error" not in last, last
    # (and the blocking worked: the modules that compare with torch were skipped)
    assert "PyTorch is needed to compare tinyseq with it" in done.stdout
