#!/usr/bin/env python3
"""The fast convolutions of this checkout against those of another commit, by turns.

Both versions of the crate run the convolution part of chapter 16's benchmark
(`cargo bench --bench fast -- --only conv --fast-only`), one after the other, for
`--rounds` rounds; each round gives a median per case, and the report keeps, per case,
the median of those medians. Taking turns is what makes the two comparable: this
machine's speed drifts by tens of percent within minutes, far more than most changes
to a kernel, so two runs made minutes apart compare the minutes, not the code.

    python3 benches/compare_commits.py 734490a            # print the table
    python3 benches/compare_commits.py 734490a --save     # also write the chapter's file

The other commit is checked out in a temporary worktree and built in
`target/compare-<commit>`; it must have the same benchmark options (any commit since
chapter 16's `--only` and `--fast-only`). With `--save` the report goes to
`book/generated/16-fast-convolution/versus-<commit, 7 digits>.json`, which the appendix's table of
the price of the portable kernels is drawn from.

Needs only Python 3 and git; runs for about a minute per round.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "book" / "generated" / "16-fast-convolution"
PASSES = ("forward_ms", "both_ms")


def git(*args, cwd=ROOT):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def bench(tree, target, out):
    """One run of the convolution benchmark of the crate in `tree`; its JSON report."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    cmd = ["cargo", "bench", "--quiet", "--bench", "fast", "--", "--only", "conv",
           "--fast-only", "--out", str(out)]
    subprocess.run(cmd, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(Path(out).read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit to compare this checkout against")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        sys.exit("--rounds must be at least 1")

    before = git("rev-parse", "--short=12", args.commit).strip()
    now = git("rev-parse", "--short=12", "HEAD").strip()
    changed = git("status", "--porcelain", "--", "src", "benches", "Cargo.toml", "Cargo.lock")
    uncommitted = sorted(line[3:] for line in changed.splitlines())
    target = ROOT / "target" / f"compare-{before}"
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        git("worktree", "add", "--detach", str(tree), before)
        try:
            runs = {"before": [], "now": []}
            for r in range(args.rounds):
                print(f"round {r + 1} of {args.rounds}", flush=True)
                runs["before"].append(bench(tree, target, Path(tmp) / "before.json"))
                runs["now"].append(bench(ROOT, ROOT / "target", Path(tmp) / "now.json"))
        finally:
            git("worktree", "remove", "--force", str(tree))

    def medians(which):
        """Per (case, threads, pass): the median over the rounds of each run's median."""
        times = {}
        for run in runs[which]:
            for case in run["conv"]:
                for t in (1, 2):
                    for part in PASSES:
                        key = (case["name"], t, part)
                        times.setdefault(key, []).append(case[f"fast_{t}"][part])
        return {k: statistics.median(v) for k, v in times.items()}

    then, later = medians("before"), medians("now")
    kernels = {c["name"]: c.get("kernel", "") for c in runs["now"][-1]["conv"]}
    rows = []
    print(f"\n{'convolution (batch 64)':<36} {'pass':<8} {'thr':>3} {'before':>9} {'now':>9}"
          f" {'now/before':>10}")
    for (name, t, part), ms in later.items():
        if (name, t, part) not in then:
            continue
        b = then[(name, t, part)]
        p = "forward" if part == "forward_ms" else "fwd+bwd"
        rows.append({"name": name, "pass": p, "threads": t, "before_ms": b, "now_ms": ms,
                     "kernel": kernels.get(name, "")})
        print(f"{name:<36.36} {p:<8} {t:>3} {b:>7.2f}ms {ms:>7.2f}ms {ms / b:>10.2f}")
    report = {
        "machine": runs["now"][-1]["machine"],
        "before": {"commit": before},
        "now": {"commit": now, "uncommitted": uncommitted},
        "rounds": args.rounds,
        "rows": rows,
    }
    if args.save:
        path = OUT / f"versus-{before[:7]}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
