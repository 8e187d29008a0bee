"""tinyseq vs PyTorch vs hand-written numpy: training speed and memory on char-level LM workloads.

    python benchmarks/run.py                      # all workloads, 5 rounds, writes RESULTS.md
    python benchmarks/run.py --workload W2 --rounds 3
    python benchmarks/run.py --quick              # fewer steps per round, 3 rounds

This is the parent process: it never imports torch. Each implementation runs in its own long-lived
worker process (worker.py, which imports only that implementation's libraries); the parent sends
every worker the same initial weights, compares their losses and gradients, then runs the timed
rounds interleaved across the workers (a b c d, a b c d, ...), one worker at a time, and writes
RESULTS.md. See benchmarks/README.md for the process layout and what the columns mean.
"""
import argparse
import datetime
import os
import platform
import statistics
import sys

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
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    return ap.parse_args()


ARGS = parse_args()
# The parent only compares results and builds the reference weights; the same thread variables as
# the workers' anyway, set before numpy loads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, HERE)
import report  # noqa: E402
import workloads as wl  # noqa: E402  (numpy only)
from impl_tinyseq import initial_state  # noqa: E402  (tinyseq, never torch)
from worker import Worker, WorkerError  # noqa: E402


class Workers(dict):
    """One long-lived worker process per implementation (name -> Worker), all built from ``state``.

    Started together (their imports overlap), closed on exit even after an error. An
    implementation without a version of this workload (NotImplementedError) is left out.
    """

    def __init__(self, workload, state):
        super().__init__()
        self.update((name, Worker(name, workload, ARGS.threads)) for name in wl.IMPLEMENTATIONS)
        try:
            for name, worker in list(self.items()):
                if not worker.request("build", state):
                    worker.close()
                    del self[name]
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in self.values():
            worker.close()


def memory(impl_name, workload, state):
    """Peak RSS growth (MiB) of 3 training steps in a fresh worker process of its own."""
    worker = Worker(impl_name, workload, ARGS.threads)
    try:
        return worker.request("memory") if worker.request("build", state) else None
    finally:
        worker.close()


def check(cfg, workers):
    """Same weights, same batch: every loss and gradient must match torch-fused. Returns failures."""
    if cfg.get("sample"):  # the same uniforms must give the same text
        us = wl.uniforms(300, seed=123)
        texts = {name: w.request("check", us) for name, w in workers.items()}
        ref = texts["torch-fused"]
        return [f"{name}: sampled text differs from torch-fused's at position "
                f"{next((i for i, (a, b) in enumerate(zip(t, ref)) if a != b), min(len(t), len(ref)))}"
                for name, t in texts.items() if t != ref]
    x, y = wl.batches(cfg, 1, seed=123)[0]
    results = {name: w.request("check", (x, y)) for name, w in workers.items()}
    ref_loss, ref_grads = results["torch-fused"]
    failures = []
    for name, (loss, grads) in results.items():
        if not np.isclose(loss, ref_loss, rtol=RTOL, atol=ATOL):
            failures.append(f"{name}: loss {loss:.6f} vs torch-fused {ref_loss:.6f}")
        for k, ref in ref_grads.items():
            g = grads.get(k)
            if g is None or g.shape != ref.shape or not np.allclose(g, ref, rtol=RTOL, atol=ATOL):
                err = ("missing" if g is None else f"shape {g.shape}, expected {ref.shape}"
                       if g.shape != ref.shape else f"max abs err {np.abs(g - ref).max():.2e}")
                failures.append(f"{name}: grad {k} ({err})")
    return failures


def time_workload(cfg, workers, rounds, steps):
    """Interleaved rounds across the worker processes: a b c d, a b c d, ... one at a time."""
    tokens = steps if cfg.get("sample") else cfg["B"] * cfg["T"] * steps  # S1: a step is a character
    for w in workers.values():  # warm-up (lazy optimiser state, allocator, oneDNN primitives)
        w.request("warmup", steps)
    rates = {name: [] for name in workers}
    for r in range(rounds):
        for name, w in workers.items():  # each waits for the previous one to finish its round
            rates[name].append(tokens / w.request("round", steps))
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rates.items()),
              flush=True)
    return rates


def describe(infos):
    """What each worker process has loaded, e.g. 'tinyseq (pid 7, 31k objects): numpy, tinyseq'."""
    return "; ".join(f"{name} (pid {i['pid']}, {i['gc_objects'] / 1000:.0f}k objects): {', '.join(i['loaded'])}"
                     for name, i in infos.items())


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


def main():
    workloads = [w.strip() for w in ARGS.workload.split(",") if w.strip()]
    for w in workloads:
        if w not in wl.WORKLOADS:
            sys.exit(f"unknown workload {w!r}; choose from {', '.join(wl.WORKLOADS)}")
    rounds = ARGS.rounds or (3 if ARGS.quick else 5)
    load = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows, notes, libs, torch_leaks, worker_failed = [], [], {}, set(), False
    medians, memory_mib = {}, {}
    for w in workloads:
        cfg = wl.WORKLOADS[w]
        steps = ARGS.steps or (QUICK_STEPS if ARGS.quick else STEPS)[w]
        print(f"{w} ({wl.DESCRIPTION[w]}): one worker process per implementation; correctness check ...",
              flush=True)
        state = initial_state(cfg)  # the reference weights, sent to every worker
        try:
            with Workers(w, state) as workers:
                infos = {name: worker.request("info") for name, worker in workers.items()}
                for name, info in infos.items():
                    libs.setdefault(name, info)
                    if name in ("tinyseq", "numpy") and "torch" in info["loaded"]:
                        torch_leaks.add(name)
                print(f"  processes: {describe(infos)}", flush=True)
                failures = check(cfg, workers)
                if failures:
                    print("  CHECK FAILED, not timed:\n    " + "\n    ".join(failures))
                    notes.append(f"{w}: correctness check FAILED, not timed: " + "; ".join(failures))
                    continue
                agree = "sample the same text" if cfg.get("sample") else f"agree, rtol={RTOL}, atol={ATOL}"
                print(f"  ok ({', '.join(workers)} {agree}); timing {rounds} rounds x {steps} "
                      f"{'characters' if cfg.get('sample') else 'steps'}", flush=True)
                rates = time_workload(cfg, workers, rounds, steps)
        except WorkerError as e:
            worker_failed = True
            print(f"  {w}: NOT TIMED, {e}", file=sys.stderr, flush=True)
            notes.append(f"{w}: not timed: the {e.impl} worker failed on {e.request!r}: {e.summary}")
            continue
        med = {n: statistics.median(v) for n, v in rates.items()}
        mem = {}
        if not ARGS.no_memory:
            print("  peak memory (a fresh worker process each) ...", flush=True)
            for n in med:
                try:
                    mem[n] = memory(n, w, state)
                except WorkerError as e:
                    worker_failed = True
                    print(f"  peak memory: {e}", file=sys.stderr, flush=True)
                    notes.append(f"{w}: no peak memory for {n}: its worker failed on {e.request!r}: "
                                 f"{e.summary}")
        for n in wl.IMPLEMENTATIONS:
            if n not in med:
                rows.append((w, n, None, None, None, None, None, None))
                continue
            rows.append((w, n, med[n], min(rates[n]), max(rates[n]), fmt_ratio(med[n], med.get("torch-composed")),
                         fmt_ratio(med[n], med.get("numpy")), mem.get(n)))
            medians[(w, n)], memory_mib[(w, n)] = med[n], mem.get(n)
    finished = datetime.datetime.now(datetime.timezone.utc)
    load_end = os.getloadavg()

    np_info = libs.get("numpy") or next(iter(libs.values()), {})
    torch_info = libs.get("torch-fused") or libs.get("torch-composed") or {}
    if torch_leaks:
        notes.append(f"torch was loaded in the {' and '.join(sorted(torch_leaks))} worker process(es), "
                     "which should import only their own libraries.")
    lines = [
        "# tinyseq benchmark results",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} – {finished:%H:%M} UTC",
        f"- command: `python benchmarks/run.py {' '.join(sys.argv[1:])}`".rstrip(),
        f"- machine: `{' '.join(platform.uname()).strip()}`, {os.cpu_count()} CPUs (nproc)",
        f"- numpy {np_info.get('numpy', '?')}, BLAS: {np_info.get('numpy_blas', '?')}; "
        f"torch {torch_info.get('torch', '?')}, BLAS: {torch_info.get('torch_blas', '?')}"
        f" (oneDNN: {torch_info.get('onednn', '?')})",
        f"- threads: {ARGS.threads} for everyone (OMP/OPENBLAS/MKL_NUM_THREADS={ARGS.threads} set before "
        f"numpy and torch load, torch.set_num_threads({ARGS.threads}))",
        "- processes: each implementation runs in its own long-lived worker process (`benchmarks/worker.py`) "
        "that imports only its own libraries (the tinyseq and numpy workers never load torch); the rounds "
        "are interleaved across the processes, one process running at a time.",
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
              "build and data), each implementation in a fresh worker process of its own.",
              "", "## Targets (issue 17), from this run", "", *report.targets(medians, memory_mib)]
    text = "\n".join(lines) + "\n"
    with open(ARGS.output, "w") as f:
        f.write(text)
    if os.path.abspath(ARGS.output) == os.path.join(HERE, "RESULTS.md"):
        report.include_in_page(text)
        print(f"(and copied into {os.path.relpath(report.PAGE)})")
    print("\n" + text)
    if "torch" in sys.modules:
        print("warning: torch got imported in the parent process", file=sys.stderr)
    if worker_failed:
        sys.exit("a worker failed (see above and the notes in the results)")


if __name__ == "__main__":
    main()
