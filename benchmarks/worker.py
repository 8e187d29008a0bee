"""One benchmark implementation in its own long-lived process, driven by run.py over stdin/stdout.

    python benchmarks/worker.py IMPL WORKLOAD [--threads N]

IMPL is tinyseq, torch-fused, torch-composed or numpy; WORKLOAD one of W1-W4, S1. The worker sets
OMP/OPENBLAS/MKL_NUM_THREADS to N before numpy loads, imports only its own implementation's module
(``workloads.load``: the tinyseq and numpy workers never import torch, the torch workers never
import tinyseq), calls ``torch.set_num_threads(N)`` in the torch workers, and then serves the
parent's requests one at a time:

    request                 reply value
    ("build", state)        True once the model and optimiser are built from ``state`` (numpy
                            arrays under PyTorch's names); False if the implementation has no
                            version of this workload (NotImplementedError)
    ("check", data)         data = (x, y): (loss, {name: grad}), no optimiser step;
                            S1, data = uniforms: the sampled character ids (a list of ints)
    ("warmup", steps)       None, after one untimed training step on the first batch of the
                            round's data (S1: 20 characters)
    ("round", steps)        seconds (time.perf_counter) taken by ``steps`` training steps on a
                            fixed list of batches (S1: by sampling ``steps`` characters)
    ("memory",)             peak RSS growth in MiB during 3 training steps (S1: one sampling
                            round); only in a fresh worker, right after "build"
    ("info",)               {library versions, BLAS, thread count, which of numpy / tinyseq /
                            torch this process has loaded, pid, objects tracked by the GC}
    ("quit",)               None, then the worker exits (it also exits when its stdin closes)

Every message either way is a pickle preceded by its length (8 bytes, little-endian). A reply is
``("ok", value)`` or ``("error", traceback text)``; after an error the worker stays ready for the
next request. The protocol owns the process's original stdout; file descriptor 1 is then pointed
at stderr, so a stray print (from Python or C) cannot corrupt it.

The parent's side is the ``Worker`` class below (run.py uses it); this module imports only the
standard library at the top, so that the thread variables are set before numpy loads.
"""
import argparse
import io
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = struct.Struct("<Q")
TIMEOUT = 1800.0  # seconds a single request may take before the parent gives up on the worker


# ---- framing (both sides) -----------------------------------------------------------------------
def write_msg(stream, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_msg(stream):
    """The next message from a blocking binary stream; EOFError when it is closed."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (n,) = HEADER.unpack(head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError
    return pickle.loads(data)


# ---- the parent's side ---------------------------------------------------------------------------
class _NoTorchUnpickler(pickle.Unpickler):
    """Refuses torch objects in a reply: unpickling one would import torch into the parent."""

    def find_class(self, module, name):
        if module.split(".")[0] == "torch":
            raise pickle.UnpicklingError(f"the reply contains a {module}.{name}; workers must answer "
                                         "with numpy arrays and plain Python objects")
        return super().find_class(module, name)


class WorkerError(RuntimeError):
    """A worker raised, died or timed out; ``str()`` names it and includes its traceback and stderr."""

    def __init__(self, impl, request, detail, stderr=""):
        self.impl, self.request, self.detail, self.stderr = impl, request, detail.rstrip(), stderr.rstrip()
        lines = self.detail.splitlines()
        self.summary = lines[-1] if lines else "failed"
        text = f"{impl} worker failed on {request!r}:\n{self.detail}"
        if self.stderr:
            text += f"\n--- {impl} worker's stderr (last 40 lines) ---\n" + "\n".join(
                self.stderr.splitlines()[-40:])
        super().__init__(text)


class Worker:
    """A running ``worker.py IMPL WORKLOAD`` process; ``request(cmd, *args)`` returns the reply value.

    Raises WorkerError (with the implementation's name, the worker's traceback and its stderr) if
    the worker reports an exception, exits, or does not answer within ``TIMEOUT`` seconds.
    Its stderr goes to a temporary file (read back only to report a failure), so it never blocks.
    """

    def __init__(self, impl, workload, threads):
        self.impl = impl
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "worker.py"), impl, workload, "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self._fd = self.proc.stdout.fileno()

    def request(self, cmd, *args, timeout=TIMEOUT):
        try:
            write_msg(self.proc.stdin, (cmd, *args))
            status, value = self._read(timeout, cmd)
        except (BrokenPipeError, EOFError):
            raise self._died(cmd) from None
        if status != "ok":
            raise WorkerError(self.impl, cmd, value, self.stderr())
        return value

    def _read(self, timeout, cmd):
        deadline = time.monotonic() + timeout
        head = self._read_exact(HEADER.size, deadline, cmd, timeout)
        data = self._read_exact(HEADER.unpack(head)[0], deadline, cmd, timeout)
        try:
            return _NoTorchUnpickler(io.BytesIO(data)).load()
        except Exception as e:  # e.g. a torch object in the reply
            raise WorkerError(self.impl, cmd, f"unreadable reply: {type(e).__name__}: {e}",
                              self.stderr()) from None

    def _read_exact(self, n, deadline, cmd, timeout):
        chunks, left = [], n
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
                self.kill()
                raise WorkerError(self.impl, cmd, f"no answer within {timeout:g} s; worker killed",
                                  self.stderr())
            chunk = os.read(self._fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _died(self, cmd):
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = "unknown (killed)"
        return WorkerError(self.impl, cmd, f"worker process exited (exit code {code})", self.stderr())

    def stderr(self):
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        """Ask the worker to quit; kill it if it does not within 10 s."""
        if self.proc.poll() is None:
            try:
                write_msg(self.proc.stdin, ("quit",))
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._stderr.close()


# ---- the worker's side ---------------------------------------------------------------------------
def _status_kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def numpy_blas():
    import numpy as np
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{cfg['name']} {cfg.get('version', '')}".strip()
        return blas + f" ({cfg.get('openblas configuration', '').split('MAX_THREADS')[0].strip()})"
    except Exception:  # older numpy
        return "see numpy.show_config()"


class Server:
    """The requests a worker answers (see the module docstring), for one implementation."""

    REQUESTS = ("build", "check", "warmup", "round", "memory", "info")

    def __init__(self, impl_name, workload, threads):
        import workloads as wl  # numpy only
        self.wl, self.name, self.threads = wl, impl_name, threads
        self.cfg = wl.WORKLOADS[workload]
        self.cls = wl.load(impl_name)  # imports the implementation's own libraries
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        self.impl, self.used, self._data = None, False, (None, None)

    def build(self, state):
        try:
            self.impl = self.cls(self.cfg, state)
        except NotImplementedError:
            return False
        return True

    def check(self, data):
        self.used = True
        if self.cfg.get("sample"):
            return [int(i) for i in self.impl.sample(data)]
        import numpy as np
        loss, grads = self.impl.loss_and_grads(*data)
        return float(loss), {k: np.asarray(v) for k, v in grads.items()}  # plain arrays, no tensors

    def data(self, steps):
        """The round's data, made once per ``steps`` (the same in every worker: fixed seeds)."""
        if self._data[0] != steps:
            wl = self.wl
            self._data = (steps, wl.uniforms(steps) if self.cfg.get("sample") else wl.batches(self.cfg, steps))
        return self._data[1]

    def warmup(self, steps):  # lazy optimiser state, allocator, oneDNN primitives
        self.used = True
        data = self.data(steps)
        self.impl.sample(data[:20]) if self.cfg.get("sample") else self.impl.step(*data[0])

    def round(self, steps):
        self.used = True
        data, impl = self.data(steps), self.impl
        if self.cfg.get("sample"):
            t0 = time.perf_counter()
            impl.sample(data)
            return time.perf_counter() - t0
        t0 = time.perf_counter()
        for x, y in data:
            impl.step(x, y)
        return time.perf_counter() - t0

    def memory(self):
        """Peak RSS growth (MiB) of a few training steps, after imports, model build and data.

        Linux: write 5 to /proc/self/clear_refs to reset the peak (VmHWM) left by the imports, then
        peak = VmHWM after the steps (= getrusage's ru_maxrss when nothing was reset) minus VmRSS
        before.
        """
        if self.used or self.impl is None:
            raise RuntimeError("memory needs a fresh worker, right after build")
        self.used = True
        wl, cfg = self.wl, self.cfg
        data = wl.batches(cfg, 3)
        us = wl.uniforms(cfg.get("sample", 0))
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status_kb("VmRSS")
        if cfg.get("sample"):
            self.impl.sample(us)
        else:
            for x, y in data:
                self.impl.step(x, y)
        peak = max(_status_kb("VmHWM"), _status_kb("VmRSS"))
        return (peak - base) / 1024

    def info(self):
        import gc
        import platform

        import numpy as np
        out = {"impl": self.name, "pid": os.getpid(), "python": platform.python_version(),
               "numpy": np.__version__, "numpy_blas": numpy_blas(),
               "loaded": [m for m in ("numpy", "tinyseq", "torch") if m in sys.modules],
               "gc_objects": len(gc.get_objects())}  # what a full cyclic-GC collection walks
        if "tinyseq" in sys.modules:
            out["tinyseq"] = getattr(sys.modules["tinyseq"], "__version__", "?")
        if "torch" in sys.modules:
            torch = sys.modules["torch"]
            blas = [p.split("=")[1] for p in torch.__config__.show().replace(",", " ").split()
                    if p.startswith("BLAS_INFO=")]
            # plain str/bool/int: torch.__version__ is a TorchVersion, and unpickling that in the
            # parent would import torch there
            out.update(torch=str(torch.__version__), torch_blas=str(blas[0]) if blas else "?",
                       onednn=bool(torch.backends.mkldnn.is_available()),
                       torch_threads=int(torch.get_num_threads()))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("impl")
    ap.add_argument("workload")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    # Same thread count for everyone, set before numpy (and torch) load their BLAS.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    # The protocol gets the original stdout; anything else written to fd 1 lands on stderr.
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path.insert(0, HERE)

    server, startup_error = None, None
    try:
        server = Server(args.impl, args.workload, args.threads)
    except Exception:  # the answer to every request but quit
        startup_error = "while starting up (imports):\n" + traceback.format_exc()
    while True:
        try:
            cmd, *params = read_msg(requests)
        except EOFError:  # the parent has gone
            return
        if cmd == "quit":
            write_msg(replies, ("ok", None))
            return
        if startup_error:
            reply = ("error", startup_error)
        elif cmd not in Server.REQUESTS:
            reply = ("error", f"ValueError: unknown request {cmd!r}")
        else:
            try:
                reply = ("ok", getattr(server, cmd)(*params))
            except Exception:
                reply = ("error", traceback.format_exc())
        write_msg(replies, reply)


if __name__ == "__main__":
    main()
