"""Where tinyseq's time goes on one workload: per op, forward and backward, in one process without
torch (the profile behind docs/performance.md).

    python benchmarks/profile_ops.py W2 [--steps 5]

Prints the phases of a training step (forward, backward, optimiser), then a table of every op's
forward and backward time per step (the engine's bookkeeping for the op included), with the
matrix products (``linear``) separated from the rest, and the time outside any op. Last, the
same training step on arrays too small to cost anything (H, E, V, B of 1 to 5, the same T, so the
same ops): what is left is the framework's own cost per step, in Python (making and walking the
graph, the layers' loop), which no faster BLAS or numpy removes.
"""
import argparse
import collections
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import impl_tinyseq as it  # noqa: E402
import workloads as wl  # noqa: E402
from tinyseq.autograd import engine, function  # noqa: E402


def timed_ops():
    """Wrap every op's apply and every backward run with a timer; returns the totals table."""
    totals = collections.defaultdict(lambda: [0, 0.0])  # (phase, op) -> [calls, seconds]
    original = function.Function.__dict__["apply"]
    apply, run = original.__func__, engine.ARRAYS.run

    def timed_apply(cls, *args):
        t0 = time.perf_counter()
        out = apply(cls, *args)
        entry = totals[("forward", cls.name)]
        entry[0] += 1
        entry[1] += time.perf_counter() - t0
        return out

    def timed_run(node, grads, retain_graph):
        t0 = time.perf_counter()
        out = run(node, grads, retain_graph)
        entry = totals[("backward", node.name)]
        entry[0] += 1
        entry[1] += time.perf_counter() - t0
        return out

    function.Function.apply = classmethod(timed_apply)
    engine.ARRAYS.run = staticmethod(timed_run)
    return totals, original, run


def step_time(cfg, data, steps):
    """Median time of a full training step (forward, backward, optimiser) over ``steps``."""
    impl = it.Tinyseq(cfg, it.initial_state(cfg))
    impl.step(*data[0])  # warm-up
    times = []
    for x, y in data[:steps]:
        t0 = time.perf_counter()
        impl.step(x, y)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("workload", choices=[w for w in wl.WORKLOADS if w != "S1"])
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    cfg = wl.WORKLOADS[args.workload]
    impl = it.Tinyseq(cfg, it.initial_state(cfg))
    data = wl.batches(cfg, args.steps)
    impl.step(*data[0])  # warm-up

    phases = collections.Counter()
    for x, y in data:
        impl.opt.zero_grad()
        t0 = time.perf_counter()
        loss = impl._loss(x, y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        impl.opt.step()
        phases.update(forward=t1 - t0, backward=t2 - t1, optimiser=time.perf_counter() - t2)
        del loss
    n = args.steps
    step = sum(phases.values()) / n
    print(f"{args.workload}: {step * 1e3:.1f} ms per step: " + ", ".join(
        f"{k} {v / n * 1e3:.1f} ms" for k, v in phases.items()))

    totals, apply, run = timed_ops()
    for x, y in data:
        impl.step(x, y)
    print(f"\n{'phase':9} {'op':14} {'calls/step':>10} {'µs/call':>8} {'ms/step':>8}")
    for (phase, op), (calls, secs) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        if secs / n > 5e-5:
            print(f"{phase:9} {op:14} {calls // n:>10} {secs / calls * 1e6:>8.1f} {secs / n * 1e3:>8.2f}")
    linear = sum(s for (_, op), (_, s) in totals.items() if op == "linear") / n
    ops = sum(s for _, s in totals.values()) / n
    print(f"\nlinear (the matrix products): {linear * 1e3:.1f} ms; other ops: "
          f"{(ops - linear) * 1e3:.1f} ms; outside ops (layers, engine walk, optimiser): "
          f"{(step - ops) * 1e3:.1f} ms; of {step * 1e3:.1f} ms per step (timers add a little)")

    function.Function.apply, engine.ARRAYS.run = apply, staticmethod(run)  # the timers off
    tiny = dict(cfg, H=4, B=1, V=5, E=cfg["E"] and 4)
    full, fixed = step_time(cfg, data, n), step_time(tiny, wl.batches(tiny, n), n)
    print(f"\nthe same step with H=4, B=1 (the same {cfg['T']} time steps and ops, arrays too small to "
          f"cost anything): {fixed * 1e3:.1f} ms of {full * 1e3:.1f} ms ({fixed / full:.0%}): "
          "tinyseq's own cost in Python, per op and per time step")


if __name__ == "__main__":
    main()
