"""tinyseq vs PyTorch vs hand-written numpy: training speed and memory on char-level LM workloads.

    python benchmarks/run.py                      # all workloads, 5 rounds, writes RESULTS.md
    python benchmarks/run.py --workload W2 --rounds 3
    python benchmarks/run.py --quick              # fewer steps per round, 3 rounds
    python benchmarks/run.py --memory tinyseq --workload W2   # (internal) one peak-memory figure

See benchmarks/README.md for what the columns mean.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = {"W1": 200, "W2": 10, "W3": 3, "W4": 10, "S1": 2000}   # training steps (S1: chars) per round
QUICK_STEPS = {"W1": 100, "W2": 4, "W3": 2, "W4": 4, "S1": 500}
RTOL, ATOL = 1e-4, 1e-5


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workload", default="W1,W2,S1,W4,W3", help="comma-separated: W1,W2,W3,W4,S1")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5, 3 with --quick)")
    ap.add_argument("--steps", type=int, default=None, help="training steps per round (default per workload)")
    ap.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (default 1)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--memory", metavar="IMPL", help=argparse.SUPPRESS)
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    return ap.parse_args()


ARGS = parse_args()
# Same thread count for everyone, set before numpy/torch load their BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, HERE)
import workloads as wl  # noqa: E402

torch.set_num_threads(ARGS.threads)


def _status_kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def memory_child(impl_name, workload):
    """Peak RSS growth (MiB) of a few training steps, after imports, model build and data.

    Linux: write 5 to /proc/self/clear_refs to reset the peak (VmHWM) left by the imports, then
    peak = VmHWM after the steps (= getrusage's ru_maxrss when nothing was reset) minus VmRSS before.
    """
    cfg = wl.WORKLOADS[workload]
    impl = wl.IMPLEMENTATIONS[impl_name](cfg, wl.initial_state(cfg))
    data = wl.batches(cfg, 3)
    us = wl.uniforms(cfg.get("sample", 0))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status_kb("VmRSS")
    if cfg.get("sample"):
        impl.sample(us)
    else:
        for x, y in data:
            impl.step(x, y)
    peak = max(_status_kb("VmHWM"), _status_kb("VmRSS"))
    print(json.dumps({"peak_mib": (peak - base) / 1024}))


def memory(impl_name, workload):
    cmd = [sys.executable, __file__, "--memory", impl_name, "--workload", workload,
           "--threads", str(ARGS.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def build(cfg, state):
    """Every implementation that exists for this workload (the numpy one has no GRU)."""
    impls = {}
    for name, cls in wl.IMPLEMENTATIONS.items():
        try:
            impls[name] = cls(cfg, state)
        except NotImplementedError:
            pass
    return impls


def check(cfg, state):
    """Same weights, same batch: every loss and gradient must match torch-fused. Returns failures."""
    if cfg.get("sample"):  # the same uniforms must give the same text
        texts = {name: impl.sample(wl.uniforms(300, seed=123)) for name, impl in build(cfg, state).items()}
        return ([f"{name}: sampled text differs from torch-fused's at position "
                 f"{next(i for i, (a, b) in enumerate(zip(t, texts['torch-fused'])) if a != b)}"
                 for name, t in texts.items() if t != texts["torch-fused"]], list(texts))
    x, y = wl.batches(cfg, 1, seed=123)[0]
    results = {name: impl.loss_and_grads(x, y) for name, impl in build(cfg, state).items()}
    ref_loss, ref_grads = results["torch-fused"]
    failures = []
    for name, (loss, grads) in results.items():
        if not np.isclose(loss, ref_loss, rtol=RTOL, atol=ATOL):
            failures.append(f"{name}: loss {loss:.6f} vs torch-fused {ref_loss:.6f}")
        for k, ref in ref_grads.items():
            g = grads.get(k)
            if g is None or g.shape != ref.shape or not np.allclose(g, ref, rtol=RTOL, atol=ATOL):
                err = "missing" if g is None else f"max abs err {np.abs(g - ref).max():.2e}"
                failures.append(f"{name}: grad {k} ({err})")
    return failures, list(results)


def time_workload(workload, rounds, steps):
    cfg = wl.WORKLOADS[workload]
    state = wl.initial_state(cfg)
    impls = build(cfg, state)
    if cfg.get("sample"):  # S1: one "step" is one sampled character
        us = wl.uniforms(steps)
        run, tokens = (lambda impl: impl.sample(us)), steps
    else:
        data = wl.batches(cfg, steps)
        run, tokens = (lambda impl: [impl.step(x, y) for x, y in data]), cfg["B"] * cfg["T"] * steps
    for impl in impls.values():  # warm-up (lazy optimiser state, allocator, oneDNN primitives)
        impl.sample(us[:20]) if cfg.get("sample") else impl.step(*data[0])
    rates = {name: [] for name in impls}
    for r in range(rounds):
        for name, impl in impls.items():      # interleaved: a b c d, a b c d, ...
            t0 = time.perf_counter()
            run(impl)
            rates[name].append(tokens / (time.perf_counter() - t0))
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rates.items()),
              flush=True)
    return rates


def blas_info():
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        numpy_blas = f"{cfg['name']} {cfg.get('version', '')}".strip()
        numpy_blas += f" ({cfg.get('openblas configuration', '').split('MAX_THREADS')[0].strip()})"
    except Exception:  # older numpy
        numpy_blas = "see numpy.show_config()"
    torch_blas = [p.split("=")[1] for p in torch.__config__.show().replace(",", " ").split()
                  if p.startswith("BLAS_INFO=")]
    return numpy_blas, (torch_blas[0] if torch_blas else "?")


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


def main():
    workloads = [w.strip() for w in ARGS.workload.split(",") if w.strip()]
    for w in workloads:
        if w not in wl.WORKLOADS:
            sys.exit(f"unknown workload {w!r}; choose from {', '.join(wl.WORKLOADS)}")
    if ARGS.memory:
        return memory_child(ARGS.memory, workloads[0])
    rounds = ARGS.rounds or (3 if ARGS.quick else 5)
    numpy_blas, torch_blas = blas_info()
    load = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows, notes = [], []
    for w in workloads:
        cfg = wl.WORKLOADS[w]
        steps = ARGS.steps or (QUICK_STEPS if ARGS.quick else STEPS)[w]
        print(f"{w} ({wl.DESCRIPTION[w]}): correctness check ...", flush=True)
        failures, checked = check(cfg, wl.initial_state(cfg))
        if failures:
            print("  CHECK FAILED, not timed:\n    " + "\n    ".join(failures))
            notes.append(f"{w}: correctness check FAILED, not timed: " + "; ".join(failures))
            continue
        agree = "sample the same text" if cfg.get("sample") else f"agree, rtol={RTOL}, atol={ATOL}"
        print(f"  ok ({', '.join(checked)} {agree}); timing {rounds} rounds x {steps} "
              f"{'characters' if cfg.get('sample') else 'steps'}", flush=True)
        rates = time_workload(w, rounds, steps)
        med = {n: statistics.median(v) for n, v in rates.items()}
        mem = {}
        if not ARGS.no_memory:
            print("  peak memory (one subprocess each) ...", flush=True)
            mem = {n: memory(n, w) for n in med}
        for n in wl.IMPLEMENTATIONS:
            if n not in med:
                rows.append((w, n, None, None, None, None, None, None))
                continue
            rows.append((w, n, med[n], min(rates[n]), max(rates[n]), fmt_ratio(med[n], med.get("torch-composed")),
                         fmt_ratio(med[n], med.get("numpy")), mem.get(n)))
    finished = datetime.datetime.now(datetime.timezone.utc)
    load_end = os.getloadavg()

    lines = [
        "# tinyseq benchmark results",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} – {finished:%H:%M} UTC",
        f"- command: `python benchmarks/run.py {' '.join(sys.argv[1:])}`".rstrip(),
        f"- machine: `{' '.join(platform.uname()).strip()}`, {os.cpu_count()} CPUs (nproc)",
        f"- numpy {np.__version__}, BLAS: {numpy_blas}; torch {torch.__version__}, BLAS: {torch_blas}"
        f" (oneDNN: {torch.backends.mkldnn.is_available()})",
        f"- threads: {ARGS.threads} for everyone (OMP/OPENBLAS/MKL_NUM_THREADS={ARGS.threads} set before "
        f"numpy and torch load, torch.set_num_threads({ARGS.threads}))",
        f"- load average at start {load[0]:.2f}, at end {load_end[0]:.2f}: the machine may be shared "
        "with other jobs, so absolute numbers are noisy; the interleaved rounds keep the ratios fair.",
        f"- {rounds} interleaved rounds per workload; each round times a fixed number of full training "
        "steps (forward, cross-entropy over every step, BPTT, clipping for W1, optimiser update); "
        "S1 times sampling characters one at a time from the W2 model under no_grad (tokens = characters).",
        "",
        "| workload | implementation | tokens/s (median) | min – max | × torch-composed | × numpy | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for w, n, m, lo, hi, rc, rn, mb in rows:
        name = f"{w} {wl.DESCRIPTION[w]}"
        if m is None:
            lines.append(f"| {name} | {n} | n/a | | | | |")
        else:
            mbs = "—" if mb is None else f"{mb:,.1f}"
            lines.append(f"| {name} | {n} | {m:,.0f} | {lo:,.0f} – {hi:,.0f} | {rc} | {rn} | {mbs} |")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    lines += ["", "Peak MiB: peak RSS (VmHWM, reset via /proc/self/clear_refs after imports) during 3 training "
              "steps (S1: one sampling round) minus the RSS just before them (after imports, model "
              "build and data), each implementation in its own process."]
    text = "\n".join(lines) + "\n"
    with open(ARGS.output, "w") as f:
        f.write(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
