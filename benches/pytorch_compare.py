#!/usr/bin/env python3
"""cnn-book against PyTorch on the CPU, side by side, in one run (chapter 16).

Runs the crate's benchmark (`cargo bench --bench fast`) and the same measurements in
PyTorch with the same thread counts: convolution forward and forward+backward on five
shapes (batch 64, f32: LeNet's two, 3x3 layers of 32 and 64 channels and the small
ResNet's), max pooling and batch normalization on the same activations, and one training
epoch of LeNet and of the small ResNet on the 60,000 Fashion-MNIST training images.

The two libraries take turns, so that both see the same state of the machine (its speed
drifts by tens of percent within minutes on a shared or virtual machine): the crate's
benchmark runs as a server (`--serve`) and, for every layer, thread count and pass, the
script asks it for 7 timed runs, then times 7 runs of PyTorch, and so on for 3 rounds
(the side that goes first alternating), each reported value the median of the 21 runs;
then each model's epochs, one of cnn-book's and one of PyTorch's per thread count, by
turns for 3 rounds, each reported time the median of the 3. The rest of the crate's
benchmark (peak, naive loops, lowering, kernels, profile) runs once, first. Both run with
glibc's malloc told where large blocks come from (see MALLOC below), or the allocator's
state, not the kernels, would decide some rows.

Prints one table with both times and their ratio, and with --save writes
book/generated/16-fast-convolution/bench.json and comparison.json, which the chapter's
figures read.

Not part of CI: it needs PyTorch, e.g.

    python3 -m venv ~/.venvs/torch && ~/.venvs/torch/bin/pip install torch numpy
    ~/.venvs/torch/bin/python benches/pytorch_compare.py --save

Options: --quick (fewer repetitions, one round, LeNet epoch only), --skip-epochs,
--save-as NAME (with --save: the files of another kind of CPU, e.g. `--save-as avx2`).

To hold both sides to AVX2 on a machine with AVX-512:

    CNN_BOOK_ISA=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \
        ~/.venvs/torch/bin/python benches/pytorch_compare.py --save --save-as avx2
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# glibc's malloc hands out a large block (an output of megabytes) either from its heap or
# by a fresh mmap, and moves the line between the two as the process frees blocks: a
# process that ends on the mmap side pays a page fault per 4 KiB of every output, every
# call (PyTorch's 32-channel forward pass then takes 12 ms instead of 7, from one process
# to the next). Both sides run with the line fixed above every block they time, so that
# neither does: the state a long training run settles in.
MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(512 << 20)}
if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in MALLOC.items()):
    os.environ.update(MALLOC)  # read by malloc when a process starts: start again
    os.execv(sys.executable, [sys.executable, *sys.argv])

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "book" / "generated" / "16-fast-convolution"
BATCH = 64
# Rounds of one epoch of each library per model and thread count, taking turns.
EPOCH_ROUNDS = 3

# The same five convolutions as benches/fast.rs: (name, C, K, H=W, field, padding).
CONV_CASES = [
    ("LeNet conv1 1->6, 28x28, 5x5, pad 2", 1, 6, 28, 5, 2),
    ("LeNet conv2 6->16, 14x14, 5x5", 6, 16, 14, 5, 0),
    ("3x3 32->32, 28x28, pad 1", 32, 32, 28, 3, 1),
    ("3x3 64->64, 14x14, pad 1", 64, 64, 14, 3, 1),
    ("ResNet 3x3 16->16, 28x28, pad 1", 16, 16, 28, 3, 1),
]


def conv_cases():
    """The convolutions of CONV_CASES as (name, forward, forward+backward) callables."""
    cases = []
    gen = torch.Generator().manual_seed(16)
    for name, c, k, hw, f, p in CONV_CASES:
        conv = nn.Conv2d(c, k, f, padding=p)
        # As in training: the first layer (one input channel) needs no input gradient.
        first = c == 1
        x = torch.rand(BATCH, c, hw, hw, generator=gen) * 2 - 1
        x.requires_grad_(not first)
        with torch.no_grad():
            dy = torch.rand_like(conv(x)) * 2 - 1

        def fwd(conv=conv, x=x):
            with torch.no_grad():
                conv(x)

        def both(conv=conv, x=x, dy=dy):
            conv.zero_grad(set_to_none=False)
            x.grad = None
            conv(x).backward(dy)

        cases.append((name, fwd, both))
    return cases


def pool_bn_cases():
    """Max pooling and batch norm on the convolutions' activations, as callables."""
    cases = []
    gen = torch.Generator().manual_seed(18)
    for c, hw in ((6, 28), (32, 28), (64, 14)):
        x = (torch.rand(BATCH, c, hw, hw, generator=gen) * 2 - 1).requires_grad_(True)
        for name, layer in (
            (f"max pool 2x2 on {c}x{hw}x{hw}", nn.MaxPool2d(2, 2)),
            (f"batch norm on {c}x{hw}x{hw}", nn.BatchNorm2d(c)),
        ):
            layer.train()
            with torch.no_grad():
                dy = torch.rand_like(layer(x)) * 2 - 1

            def fwd(layer=layer, x=x):
                with torch.no_grad():
                    layer(x)

            def both(layer=layer, x=x, dy=dy):
                x.grad = None
                layer(x).backward(dy)

            cases.append((name, fwd, both))
    return cases


class RustServer:
    """The crate's benchmark in `--serve` mode: times one pass of one layer on request."""

    def __init__(self):
        cmd = ["cargo", "bench", "--bench", "fast", "--", "--serve"]
        print("running", " ".join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def times(self, kind, index, threads, part, runs):
        self.proc.stdin.write(f"{kind} {index} {threads} {part} {runs}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the Rust benchmark stopped")
        return [float(t) for t in line.split()]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def torch_times(fn, threads, runs):
    torch.set_num_threads(threads)
    fn()  # warm-up, as on the Rust side
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def side_by_side(rust, kind, cases, rounds, runs):
    """Both libraries' times for every case, thread count and pass, taking turns every
    `runs` runs (the one that goes first alternating from round to round), with a pause
    at each switch so that the other library's idle threads have stopped spinning.
    Returns rows {"name", "fast_T": {...}, "torch_T": {...}} of medians over all runs."""
    samples = {}
    for r in range(rounds):
        print(f"{kind}: round {r + 1} of {rounds}", flush=True)
        for index, (name, fwd, both) in enumerate(cases):
            for t in (1, 2):
                for part, fn in (("forward", fwd), ("both", both)):
                    turns = [("fast", lambda: rust.times(kind, index, t, part, runs)),
                             ("torch", lambda: torch_times(fn, t, runs))]
                    for side, timed in (turns if r % 2 == 0 else turns[::-1]):
                        samples.setdefault((name, side, t, part), []).extend(timed())
                        time.sleep(0.05)
    rows = []
    for name, _, _ in cases:
        row = {"name": name}
        for side in ("fast", "torch"):
            for t in (1, 2):
                row[f"{side}_{t}"] = {f"{part}_ms": statistics.median(samples[(name, side, t, part)])
                                      for part in ("forward", "both")}
        rows.append(row)
    return rows


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


class Block(nn.Module):
    """x + BN(conv(ReLU(BN(conv(x))))), then ReLU: the crate's Residual + ReLU."""

    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c),
        )

    def forward(self, x):
        return F.relu(x + self.body(x))


def resnet_small():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        Block(16), Block(16), Block(16),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),
    )


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist():
    candidates = [os.environ.get("FASHION_MNIST_DIR"), "/usr/share/datasets/fashion-mnist"]
    for d in filter(None, candidates):
        images = Path(d) / "train-images-idx3-ubyte.gz"
        if images.exists():
            x = read_idx(images).astype(np.float32) / 255.0
            y = read_idx(Path(d) / "train-labels-idx1-ubyte.gz").astype(np.int64)
            x = (x - x.mean()) / x.std()
            return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)
    return None


def bench_epochs(models, threads):
    data = fashion_mnist()
    if data is None:
        print("skipping the epochs: Fashion-MNIST not found (set FASHION_MNIST_DIR)")
        return []
    x, y = data
    rows = []
    for name in models:
        for t in threads:
            torch.set_num_threads(t)
            torch.manual_seed(9)
            model = {"lenet": lenet, "resnet-small": resnet_small}[name]()
            model.train()
            opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
            order = torch.randperm(len(y))
            start = time.perf_counter()
            total = 0.0
            for b in range(0, len(y), BATCH):
                idx = order[b: b + BATCH]
                opt.zero_grad()
                loss = F.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            seconds = time.perf_counter() - start
            print(f"one epoch of {name:<14} {t} thread(s): {seconds:7.1f} s (PyTorch, "
                  f"train loss {total / len(y):.3f})")
            rows.append({"model": name, "threads": t, "seconds": seconds,
                         "train_loss": total / len(y)})
    return rows


def median_epochs(rounds):
    """One row per (model, threads) from the rows of several rounds: the first round's, its
    time the median of all rounds' (and all of them kept, in `all_seconds`)."""
    rows = []
    for row in rounds[0] if rounds else []:
        key = (row["model"], row["threads"])
        times = [r["seconds"] for rs in rounds for r in rs if (r["model"], r["threads"]) == key]
        rows.append(dict(row, seconds=statistics.median(times), all_seconds=times))
    return rows


def run_rust(args, *options):
    """One run of the crate's benchmark with `options`; its JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = ["cargo", "bench", "--bench", "fast", "--", "--out", str(out), *options]
        if args.quick:
            cmd.append("--quick")
        print("running", " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        return json.loads(out.read_text())


def ratio(ours, theirs):
    return ours / theirs if theirs else float("nan")


def source_commit():
    """The commit the crate is built from, and the source files that differ from it (the
    code measured), or None outside a git checkout."""
    def git(*a):
        out = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None
    commit = git("rev-parse", "--short=12", "HEAD")
    if commit is None:
        return None
    changed = git("status", "--porcelain", "--", "src", "benches", "Cargo.toml", "Cargo.lock")
    files = sorted(line[3:] for line in (changed or "").splitlines())
    return {"commit": commit, "uncommitted": files}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--save-as", default="", help="with --save: write bench-NAME.json and "
                        "comparison-NAME.json (e.g. avx2), beside the chapter's default run")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-epochs", action="store_true")
    args = parser.parse_args()
    source = source_commit()

    # Everything that has no PyTorch counterpart, once, and the rows' descriptions.
    rust = run_rust(args, "--skip", "epoch")
    print("PyTorch", torch.__version__, flush=True)
    rounds, runs = (1, 5) if args.quick else (3, 7)
    server = RustServer()
    try:
        conv = side_by_side(server, "conv", conv_cases(), rounds, runs)
        pool = side_by_side(server, "layer", pool_bn_cases(), rounds, runs)
    finally:
        server.close()
    for key, timed in (("conv", conv), ("pool_bn", pool)):
        for row, both in zip(rust[key], timed):
            assert row["name"] == both["name"], (row["name"], both["name"])
            row["fast_1"], row["fast_2"] = both["fast_1"], both["fast_2"]
    torch_conv, torch_pool = conv, pool
    models = [] if args.skip_epochs else (["lenet"] if args.quick else ["lenet", "resnet-small"])
    rust["epochs"], torch_epochs = [], []
    for model in models:
        # Epochs by turns too, the side that goes first alternating: one epoch of each back
        # to back moved the ResNet's ratio from 0.87 to 0.96 between two runs.
        ours, theirs = [], []
        for r in range(1 if args.quick else EPOCH_ROUNDS):
            turns = [(ours, lambda: run_rust(args, "--only", "epoch", "--model", model)["epochs"]),
                     (theirs, lambda: bench_epochs([model], (1, 2)))]
            for side, timed in (turns if r % 2 == 0 else turns[::-1]):
                side.append(timed())
        rust["epochs"] += median_epochs(ours)
        torch_epochs += median_epochs(theirs)

    rows = []
    for ours, theirs in zip(rust.get("conv", []), torch_conv):
        for t in (1, 2):
            for part in ("forward_ms", "both_ms"):
                rows.append((ours["name"], "forward" if part == "forward_ms" else "fwd+bwd",
                             t, ours[f"fast_{t}"][part], theirs[f"torch_{t}"][part], "ms",
                             ours.get("kernel", "")))
    for ours, theirs in zip(rust.get("pool_bn", []), torch_pool):
        for t in (1, 2):
            rows.append((ours["name"], "fwd+bwd", t, ours[f"fast_{t}"]["both_ms"],
                         theirs[f"torch_{t}"]["both_ms"], "ms", ""))
    theirs_by = {(e["model"], e["threads"]): e for e in torch_epochs}
    for e in rust.get("epochs", []):
        other = theirs_by.get((e["model"], e["threads"]))
        if other:
            rows.append((f"one epoch of {e['model']}", "train", e["threads"], e["seconds"],
                         other["seconds"], "s", ""))

    print()
    print(f"{'benchmark':<40} {'pass':<8} {'thr':>3} {'cnn-book':>10} {'PyTorch':>10} {'ratio':>6}")
    for name, part, t, ours, theirs, unit, kernel in rows:
        print(f"{name:<40} {part:<8} {t:>3} {ours:>8.2f}{unit:>2} {theirs:>8.2f}{unit:>2} "
              f"{ratio(ours, theirs):>6.2f}  {kernel}")
    machine = rust.get("machine", {})
    print(f"cnn-book kernels: {machine.get('isa', '?')} ({machine.get('isa_description', '')}); "
          f"PyTorch: {torch.backends.cpu.get_cpu_capability()}")
    print("ratio = cnn-book time / PyTorch time: below 1.0, cnn-book is faster.")

    if args.save:
        OUT.mkdir(parents=True, exist_ok=True)
        suffix = f"-{args.save_as}" if args.save_as else ""
        bench = OUT / f"bench{suffix}.json"
        bench.write_text(json.dumps(rust, indent=2) + "\n")
        print("wrote", bench)
        report = {
            "machine": rust.get("machine", {}),
            "source": source,
            "torch": torch.__version__,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "python": platform.python_version(),
            "environment": {k: os.environ[k] for k in
                            ("CNN_BOOK_ISA", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                             *MALLOC)
                            if k in os.environ},
            "rows": [dict(zip(("name", "pass", "threads", "cnn_book", "pytorch", "unit",
                               "kernel"), r))
                     for r in rows],
        }
        path = OUT / f"comparison{suffix}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print("wrote", path)


if __name__ == "__main__":
    sys.exit(main())
