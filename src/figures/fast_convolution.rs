//! Figures and numbers of chapter `16-fast-convolution`, drawn from the committed
//! measurements: `cargo bench --bench fast -- --save` writes `bench.json`,
//! `benches/pytorch_compare.py --save` writes `comparison.json`. Like a data set, they are
//! inputs: timings differ from run to run, the figures drawn from one run do not.

use std::path::Path;

use serde::Deserialize;

use super::{markdown_table, GenResult, Writer};
use crate::fast::conv::im2col_image;
use crate::plot::grouped_log_bar_chart;

/// Where the chapter's measurements live, relative to the repository root.
pub const BENCH: &str = "book/generated/16-fast-convolution/bench.json";
pub const COMPARISON: &str = "book/generated/16-fast-convolution/comparison.json";
/// The same comparison on a CPU with AVX2 + FMA and no AVX-512
/// (`benches/pytorch_compare.py --save --save-as avx2`).
pub const BENCH_AVX2: &str = "book/generated/16-fast-convolution/bench-avx2.json";
pub const COMPARISON_AVX2: &str = "book/generated/16-fast-convolution/comparison-avx2.json";
/// The fast convolutions of the committed code against those of commit 734490a, the
/// AVX-512 intrinsics that the portable kernels replaced, by turns on one machine
/// (`benches/compare_commits.py 734490a --save`): the appendix's price of the portable layer.
pub const VERSUS: &str = "book/generated/16-fast-convolution/versus-734490a.json";

#[derive(Debug, Deserialize)]
struct Timing {
    forward_ms: f64,
    both_ms: f64,
}

#[derive(Debug, Deserialize)]
struct ConvRow {
    name: String,
    input: [usize; 4],
    input_gradient: bool,
    forward_gflop: f64,
    naive: Timing,
    im2col: Timing,
    fast_1: Timing,
    fast_2: Timing,
}

#[derive(Debug, Deserialize)]
struct Lowering {
    name: String,
    ms: f64,
    megabytes: f64,
}

#[derive(Debug, Deserialize)]
struct LayerRow {
    name: String,
    fast_1: Timing,
    fast_2: Timing,
}

#[derive(Debug, Deserialize)]
struct ProfileRow {
    layer: String,
    forward_ms: f64,
    backward_ms: f64,
}

#[derive(Debug, Deserialize)]
struct Epoch {
    model: String,
    threads: usize,
    seconds: f64,
}

#[derive(Debug, Deserialize)]
struct Peak {
    isa: String,
    gflops_1: f64,
    gflops_2: f64,
}

#[derive(Debug, Deserialize)]
struct Machine {
    cpu: String,
    cores: usize,
    rustc: String,
}

#[derive(Debug, Deserialize)]
struct KernelTiming {
    forward_ms: f64,
    weight_grad_ms: f64,
    backward_ms: f64,
}

#[derive(Debug, Deserialize)]
struct KernelRow {
    name: String,
    gemm: KernelTiming,
    direct: KernelTiming,
    winograd: KernelTiming,
    winograd_applies: bool,
}

#[derive(Debug, Deserialize)]
struct Bench {
    machine: Machine,
    peak: Peak,
    lowering: Vec<Lowering>,
    kernels: Vec<KernelRow>,
    conv: Vec<ConvRow>,
    pool_bn: Vec<LayerRow>,
    profile_block: Vec<ProfileRow>,
    epochs: Vec<Epoch>,
}

#[derive(Debug, Deserialize)]
struct CompareRow {
    name: String,
    pass: String,
    threads: usize,
    cnn_book: f64,
    pytorch: f64,
    unit: String,
    /// The kernel that ran (recorded since the kernels run on every CPU).
    #[serde(default)]
    kernel: String,
}

/// The machine of a comparison, as the benchmark recorded it.
#[derive(Debug, Deserialize)]
struct CompareMachine {
    cpu: String,
    cores: usize,
    rustc: String,
    /// The instruction set of the direct kernels (not recorded by the first runs, which
    /// were made on AVX-512 machines).
    #[serde(default)]
    isa: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Comparison {
    machine: CompareMachine,
    torch: String,
    #[serde(default)]
    torch_cpu_capability: Option<String>,
    /// The commit measured, and source files that differed from it (runs before the
    /// comparison recorded it have none).
    #[serde(default)]
    source: Option<Source>,
    /// The environment variables the run was made with that change what is measured
    /// (instruction sets held down, the allocator's settings); older runs recorded none.
    #[serde(default)]
    environment: std::collections::BTreeMap<String, String>,
    rows: Vec<CompareRow>,
}

#[derive(Debug, Deserialize)]
struct Source {
    commit: String,
    uncommitted: Vec<String>,
}

impl Comparison {
    /// The comparison as a table, with a note on where and how it was measured.
    fn table(&self) -> String {
        // The kernel column, where the run recorded which kernel ran.
        let kernels = self.rows.iter().any(|r| !r.kernel.is_empty());
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.name.clone(),
                    r.pass.clone(),
                    r.threads.to_string(),
                    format!("{:.2} {}", r.cnn_book, r.unit),
                    format!("{:.2} {}", r.pytorch, r.unit),
                    format!("{:.2}", r.cnn_book / r.pytorch),
                ];
                if kernels {
                    row.push(r.kernel.clone());
                }
                row
            })
            .collect();
        let mut header = vec![
            "benchmark",
            "pass",
            "threads",
            "cnn-book",
            "PyTorch",
            "ratio",
        ];
        if kernels {
            header.push("cnn-book's kernel");
        }
        let mut table = markdown_table(&header, &rows);
        let m = &self.machine;
        // Runs before the kernels ran on every CPU did not record the instruction set:
        // then the direct kernels ran only with AVX-512.
        let isa = m.isa.as_deref().unwrap_or("avx512");
        let torch_isa = match &self.torch_cpu_capability {
            Some(c) => format!("its {c} kernels"),
            None => "its default kernels for this CPU".to_string(),
        };
        let source = match &self.source {
            Some(s) if s.uncommitted.is_empty() => format!(" at commit {}", s.commit),
            Some(s) => format!(
                " at commit {} with changes to {}",
                s.commit,
                s.uncommitted.join(", ")
            ),
            None => String::new(),
        };
        let held = if self.held() {
            ", both held to them by the environment (CNN_BOOK_ISA, ATEN_CPU_CAPABILITY, \
             ONEDNN_MAX_CPU_ISA); the matrix products of the fully connected layers \
             (matrixmultiply in this library, MKL in PyTorch) were not held and use what the CPU has"
        } else {
            ""
        };
        let malloc = if self.environment.contains_key("MALLOC_MMAP_THRESHOLD_") {
            " Both ran with glibc's malloc serving large blocks from its heap \
             (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)."
        } else {
            ""
        };
        table.push_str(&format!(
            "\nratio = cnn-book time / PyTorch time (below 1: cnn-book is faster). Medians, \
             measured in one run of `benches/pytorch_compare.py` on {} ({} cores), {}, with \
             the {isa} kernels{source}; PyTorch {} with {torch_isa}{held}.{malloc}\n",
            m.cpu, m.cores, m.rustc, self.torch
        ));
        table
    }

    /// Whether both libraries were held to a narrower instruction set than the CPU has.
    fn held(&self) -> bool {
        self.environment.contains_key("CNN_BOOK_ISA")
    }

    /// Where a comparison of the AVX2 kernels was made, as the start of a sentence; `main`
    /// is the CPU of the chapter's main (AVX-512) comparison.
    fn avx2_where(&self, main: &str) -> String {
        let cpu = &self.machine.cpu;
        let which = if cpu == main { "the same" } else { "a" };
        if self.held() {
            format!(
                "On {which} {cpu}, both libraries held to their AVX2 kernels \
                 (`CNN_BOOK_ISA=avx2`, and PyTorch's `ATEN_CPU_CAPABILITY=avx2`, \
                 `ONEDNN_MAX_CPU_ISA=AVX2`)"
            )
        } else {
            format!(
                "On a {cpu} with AVX2 and no AVX-512, where both libraries run their AVX2 kernels"
            )
        }
    }
}

/// Two versions of the crate's fast convolutions timed by turns
/// (`benches/compare_commits.py`).
#[derive(Debug, Deserialize)]
struct Versus {
    machine: CompareMachine,
    before: Commit,
    now: Source,
    rounds: usize,
    rows: Vec<VersusRow>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    commit: String,
}

#[derive(Debug, Deserialize)]
struct VersusRow {
    name: String,
    pass: String,
    threads: usize,
    before_ms: f64,
    now_ms: f64,
    kernel: String,
}

impl Versus {
    /// The table, with a note on how it was measured.
    fn table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.pass.clone(),
                    r.threads.to_string(),
                    format!("{:.2} ms", r.before_ms),
                    format!("{:.2} ms", r.now_ms),
                    format!("{:.2}", r.now_ms / r.before_ms),
                    r.kernel.clone(),
                ]
            })
            .collect();
        let header = [
            "convolution (batch 64)",
            "pass",
            "threads",
            "before",
            "now",
            "now / before",
            "kernel now",
        ];
        let mut table = markdown_table(&header, &rows);
        let changes = if self.now.uncommitted.is_empty() {
            String::new()
        } else {
            format!(" with changes to {}", self.now.uncommitted.join(", "))
        };
        table.push_str(&format!(
            "\nbefore = the AVX-512 intrinsics of commit {}, now = the portable kernels of \
             commit {}{changes}. The two took turns {} times on {} ({} cores, {}); each time is \
             the median of the {} runs' medians.\n",
            short_commit(&self.before.commit),
            short_commit(&self.now.commit),
            self.rounds,
            self.machine.cpu,
            self.machine.cores,
            self.machine.rustc,
            self.rounds
        ));
        table
    }

    /// The rows whose time changed by more than `by` (a fraction) in the direction of
    /// `slower`, in words: `"none"`, or each with its pass, threads and ratio.
    fn changed(&self, slower: bool, by: f64) -> String {
        let rows: Vec<String> = self
            .rows
            .iter()
            .filter(|r| {
                let ratio = r.now_ms / r.before_ms;
                if slower {
                    ratio > 1.0 + by
                } else {
                    ratio < 1.0 - by
                }
            })
            .map(|r| row_in_words(&short(&r.name), &r.pass, r.threads, r.now_ms / r.before_ms))
            .collect();
        rows_in_words(&rows)
    }
}

/// One row of a table in words: "LeNet conv1 1->6 (forward, 2 threads: 1.06)".
fn row_in_words(name: &str, pass: &str, threads: usize, ratio: f64) -> String {
    let s = if threads == 1 { "" } else { "s" };
    format!("{name} ({pass}, {threads} thread{s}: {ratio:.2})")
}

/// Rows in words, joined by semicolons, or "none".
fn rows_in_words(rows: &[String]) -> String {
    if rows.is_empty() {
        "none".into()
    } else {
        rows.join("; ")
    }
}

/// The first 7 digits of a commit.
fn short_commit(commit: &str) -> String {
    commit.chars().take(7).collect()
}

/// Two kernels' times per pass (forward, weight gradient, backward) and the ratio of the
/// first to the second, one row per convolution.
fn kernel_table(rows: &[(&KernelRow, &KernelTiming, &KernelTiming)], a: &str, b: &str) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, x, y)| {
            let mut row = vec![k.name.clone()];
            for (x, y) in [
                (x.forward_ms, y.forward_ms),
                (x.weight_grad_ms, y.weight_grad_ms),
                (x.backward_ms, y.backward_ms),
            ] {
                row.extend([
                    format!("{x:.2}"),
                    format!("{y:.2}"),
                    format!("{:.2}", x / y),
                ]);
            }
            row
        })
        .collect();
    let header = [
        "convolution (batch 64, one thread, ms)".to_string(),
        format!("forward: {a}"),
        b.to_string(),
        "ratio".to_string(),
        format!("weight gradient: {a}"),
        b.to_string(),
        "ratio".to_string(),
        format!("backward: {a}"),
        b.to_string(),
        "ratio".to_string(),
    ];
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    markdown_table(&header, &rows)
}

/// Reads `relative` (a path from the repository's root, the book's parent).
fn read<T: for<'de> Deserialize<'de>>(w: &Writer, relative: &str) -> crate::Result<T> {
    let root = w.book_dir().parent().unwrap_or(Path::new("."));
    let path = root.join(relative);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        crate::Error::Invalid(format!(
            "{}: {e} (rerun `cargo bench --bench fast -- --save` and \
             `benches/pytorch_compare.py --save`)",
            path.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| crate::Error::Invalid(format!("{}: {e}", path.display())))
}

/// The part of a case's name before the first comma: "LeNet conv1 1->6".
fn short(name: &str) -> String {
    name.split(',').next().unwrap_or(name).to_string()
}

/// FLOPs of forward and backward: the backward pass is two products of the forward's size
/// (weight and input gradients), or one when the input gradient is skipped.
fn both_gflop(row: &ConvRow) -> f64 {
    row.forward_gflop * if row.input_gradient { 3.0 } else { 2.0 }
}

pub fn generate(w: &mut Writer) -> GenResult {
    let bench: Bench = read(w, BENCH)?;
    let comparison: Comparison = read(w, COMPARISON)?;
    let torch = |name: &str, pass: &str, threads: usize| {
        comparison
            .rows
            .iter()
            .find(|r| r.name == name && r.pass == pass && r.threads == threads)
            .map(|r| r.pytorch)
    };

    // The machine and its peak.
    w.number("cpu", bench.machine.cpu.clone(), bench.machine.cpu.clone());
    w.number(
        "cores",
        bench.machine.cores.to_string(),
        bench.machine.cores,
    );
    w.number(
        "rustc",
        bench.machine.rustc.clone(),
        bench.machine.rustc.clone(),
    );
    w.number("torch", comparison.torch.clone(), comparison.torch.clone());
    w.number("isa", bench.peak.isa.clone(), bench.peak.isa.clone());
    w.number(
        "peak_1",
        format!("{:.0}", bench.peak.gflops_1),
        bench.peak.gflops_1,
    );
    w.number(
        "peak_2",
        format!("{:.0}", bench.peak.gflops_2),
        bench.peak.gflops_2,
    );

    // The ladder: every implementation on every shape, forward + backward.
    let groups: Vec<String> = bench.conv.iter().map(|c| short(&c.name)).collect();
    let pick = |f: &dyn Fn(&ConvRow) -> f64| bench.conv.iter().map(f).collect::<Vec<f64>>();
    let mut series = vec![
        (
            "naive loops (ch. 5)".to_string(),
            pick(&|c| c.naive.both_ms),
        ),
        (
            "im2col, whole batch (ch. 6)".to_string(),
            pick(&|c| c.im2col.both_ms),
        ),
        ("fast, 1 thread".to_string(), pick(&|c| c.fast_1.both_ms)),
        ("fast, 2 threads".to_string(), pick(&|c| c.fast_2.both_ms)),
    ];
    for t in [1, 2] {
        let times: Option<Vec<f64>> = bench
            .conv
            .iter()
            .map(|c| torch(&c.name, "fwd+bwd", t))
            .collect();
        if let Some(times) = times {
            series.push((format!("PyTorch, {t} thread(s)"), times));
        }
    }
    let chart = grouped_log_bar_chart(
        "Convolution forward + backward, batch 64, median milliseconds",
        "ms",
        &groups,
        &series,
    )?;
    w.figure("ladder.svg", &chart, &format!("{BENCH}, {COMPARISON}"))?;

    // The same shapes as throughput, against the peak.
    let mut rows = Vec::new();
    for c in &bench.conv {
        let gflops = |gflop: f64, ms: f64| gflop / (ms * 1e-3);
        let f1 = gflops(c.forward_gflop, c.fast_1.forward_ms);
        let f2 = gflops(c.forward_gflop, c.fast_2.forward_ms);
        let b1 = gflops(both_gflop(c), c.fast_1.both_ms);
        let b2 = gflops(both_gflop(c), c.fast_2.both_ms);
        let pct = |g: f64, peak: f64| format!("{g:.0} ({:.0}%)", 100.0 * g / peak);
        rows.push(vec![
            c.name.clone(),
            format!("{:.3}", c.forward_gflop),
            pct(f1, bench.peak.gflops_1),
            pct(b1, bench.peak.gflops_1),
            pct(f2, bench.peak.gflops_2),
            pct(b2, bench.peak.gflops_2),
        ]);
    }
    let table = markdown_table(
        &[
            "convolution (batch 64)",
            "GFLOP forward",
            "1 thread: forward GFLOP/s (% of peak)",
            "1 thread: fwd+bwd",
            "2 threads: forward",
            "2 threads: fwd+bwd",
        ],
        &rows,
    );
    w.snippet("throughput.md", &table, BENCH)?;

    // Headline ratios for the prose.
    let big = bench
        .conv
        .iter()
        .find(|c| c.name.starts_with("3x3 32->32"))
        .ok_or_else(|| crate::Error::Invalid("bench.json has no 3x3 32->32 case".into()))?;
    let ratio = |a: f64, b: f64| format!("{:.0}", a / b);
    w.number(
        "naive_over_im2col_32",
        ratio(big.naive.both_ms, big.im2col.both_ms),
        big.naive.both_ms / big.im2col.both_ms,
    );
    w.number(
        "im2col_over_fast_32",
        format!("{:.1}", big.im2col.both_ms / big.fast_1.both_ms),
        big.im2col.both_ms / big.fast_1.both_ms,
    );
    w.number(
        "naive_over_fast_32",
        ratio(big.naive.both_ms, big.fast_1.both_ms),
        big.naive.both_ms / big.fast_1.both_ms,
    );
    w.number(
        "fast_32_ms",
        format!("{:.1}", big.fast_1.both_ms),
        big.fast_1.both_ms,
    );
    w.number(
        "naive_32_ms",
        format!("{:.0}", big.naive.both_ms),
        big.naive.both_ms,
    );
    w.number(
        "threads_speedup_32",
        format!("{:.2}", big.fast_1.both_ms / big.fast_2.both_ms),
        big.fast_1.both_ms / big.fast_2.both_ms,
    );

    // The cost of lowering: bytes written by im2col for one batch, and how fast.
    let mut rows = Vec::new();
    for (l, c) in bench.lowering.iter().zip(&bench.conv) {
        let [_, ch, h, wd] = c.input;
        rows.push(vec![
            l.name.clone(),
            format!("{:.1}", (c.input[0] * ch * h * wd * 4) as f64 / 1e6),
            format!("{:.1}", l.megabytes),
            format!("{:.2}", l.ms),
            format!("{:.0}", l.megabytes / l.ms),
            format!("{:.0}%", 100.0 * l.ms / c.fast_1.forward_ms),
        ]);
    }
    let table = markdown_table(
        &[
            "convolution",
            "input (MB)",
            "patch matrices (MB)",
            "im2col (ms)",
            "GB/s",
            "share of the forward pass",
        ],
        &rows,
    );
    w.snippet("lowering.md", &table, BENCH)?;
    let l32 = bench
        .lowering
        .iter()
        .find(|l| l.name.starts_with("3x3 32->32"))
        .ok_or_else(|| crate::Error::Invalid("no lowering case for 3x3 32->32".into()))?;
    w.number(
        "lowering_32_mb",
        format!("{:.0}", l32.megabytes),
        l32.megabytes,
    );

    // A "same" row of a patch matrix, printed: the shifted image with zeros at the edges.
    let d = crate::conv::ConvDims::new(
        (1, 1, 4, 4),
        (1, 1, 3, 3),
        crate::conv::Conv2dConfig::new(1, 1),
    )?;
    let image: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    let mut cols = vec![0.0f32; 9 * 16];
    im2col_image(&image, &d, &mut cols);
    let row = |r: usize| {
        cols[r * 16..(r + 1) * 16]
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    w.snippet(
        "shifted_rows.txt",
        &format!(
            "image (4 x 4, row by row): {}\nrow (u, v) = (0, 0):       {}\nrow (u, v) = (1, 1):       {}\nrow (u, v) = (2, 2):       {}\n",
            image.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(" "),
            row(0),
            row(4),
            row(8)
        ),
        "im2col_image on a 4 x 4 image, 3 x 3 window, padding 1",
    )?;

    // The flat numbering of the direct kernels on the same small convolution.
    let g = crate::fast::direct::Direct::new((1, 4, 4), (1, 1), (3, 3), 1);
    let (wp, oh, ow) = (g.padded().1, g.out_h(), g.out_w());
    let mut text = format!(
        "4 x 4 image, padding 1 (Wp = {wp}), 3 x 3 filter: output (i, j) is flat q = {wp} i + j\n"
    );
    for i in 0..oh {
        let row: Vec<String> = (0..wp)
            .map(|j| {
                if j < ow {
                    format!("{:>3}", i * wp + j)
                } else {
                    "  .".to_string()
                }
            })
            .collect();
        text += &format!("{}\n", row.join(""));
    }
    let offsets = crate::fast::direct::offsets(&g);
    text += &format!(
        "(. = columns j >= {ow}: computed, then dropped)\ntap (u, v) reads the padded input at q + offset: {}\n",
        (0..g.kh * g.kw)
            .map(|k| format!("({}, {}) +{}", k / g.kw, k % g.kw, offsets[k]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    w.snippet(
        "flat_numbering.txt",
        &text,
        "direct::Direct and offsets on a 4 x 4 image, 3 x 3 filter, padding 1",
    )?;

    // The GEMM and the direct kernels side by side, pass by pass; then Winograd's
    // F(2x2, 3x3) against the direct kernels, where it applies.
    let all: Vec<_> = bench
        .kernels
        .iter()
        .map(|k| (k, &k.gemm, &k.direct))
        .collect();
    w.snippet("kernels.md", &kernel_table(&all, "GEMM", "direct"), BENCH)?;
    let winograd: Vec<_> = bench
        .kernels
        .iter()
        .filter(|k| k.winograd_applies)
        .map(|k| (k, &k.direct, &k.winograd))
        .collect();
    w.snippet(
        "winograd.md",
        &kernel_table(&winograd, "direct", "Winograd"),
        BENCH,
    )?;
    let verdict = winograd_verdict(&bench);
    w.number("winograd_verdict", verdict.clone(), verdict);

    // Pooling and batch normalization next to PyTorch.
    let mut rows = Vec::new();
    for l in &bench.pool_bn {
        let t =
            |threads| torch(&l.name, "fwd+bwd", threads).map_or("-".into(), |v| format!("{v:.2}"));
        rows.push(vec![
            l.name.clone(),
            format!("{:.2}", l.fast_1.both_ms),
            t(1),
            format!("{:.2}", l.fast_2.both_ms),
            t(2),
        ]);
    }
    let table = markdown_table(
        &[
            "layer (batch 64), fwd+bwd ms",
            "cnn-book 1 thread",
            "PyTorch 1 thread",
            "cnn-book 2 threads",
            "PyTorch 2 threads",
        ],
        &rows,
    );
    w.snippet("pool_bn.md", &table, &format!("{BENCH}, {COMPARISON}"))?;

    // Where one residual block spends its time.
    let total: f64 = bench
        .profile_block
        .iter()
        .map(|p| p.forward_ms + p.backward_ms)
        .sum();
    let mut rows: Vec<Vec<String>> = bench
        .profile_block
        .iter()
        .map(|p| {
            vec![
                p.layer.clone(),
                format!("{:.2}", p.forward_ms),
                format!("{:.2}", p.backward_ms),
                format!("{:.0}%", 100.0 * (p.forward_ms + p.backward_ms) / total),
            ]
        })
        .collect();
    rows.push(vec![
        "**total**".into(),
        format!(
            "{:.2}",
            bench
                .profile_block
                .iter()
                .map(|p| p.forward_ms)
                .sum::<f64>()
        ),
        format!(
            "{:.2}",
            bench
                .profile_block
                .iter()
                .map(|p| p.backward_ms)
                .sum::<f64>()
        ),
        "100%".into(),
    ]);
    let table = markdown_table(&["layer", "forward (ms)", "backward (ms)", "share"], &rows);
    w.snippet("profile.md", &table, BENCH)?;
    let conv_share: f64 = bench
        .profile_block
        .iter()
        .filter(|p| p.layer.starts_with("Conv2d"))
        .map(|p| p.forward_ms + p.backward_ms)
        .sum::<f64>()
        / total;
    w.number(
        "conv_share",
        format!("{:.0}", 100.0 * conv_share),
        conv_share,
    );

    // Epochs, and the full comparison table.
    for e in &bench.epochs {
        let key = format!("epoch_{}_{}", e.model.replace('-', "_"), e.threads);
        w.number(&key, format!("{:.1}", e.seconds), e.seconds);
        if let Some(t) = torch(&format!("one epoch of {}", e.model), "train", e.threads) {
            w.number(&format!("torch_{key}"), format!("{t:.1}"), t);
        }
    }
    w.snippet("comparison.md", &comparison.table(), COMPARISON)?;

    // The same comparison on a machine with AVX2 and no AVX-512.
    let avx2: Comparison = read(w, COMPARISON_AVX2)?;
    w.snippet("comparison-avx2.md", &avx2.table(), COMPARISON_AVX2)?;
    let avx2_where = avx2.avx2_where(&comparison.machine.cpu);
    w.number("avx2_where", avx2_where.clone(), avx2_where);
    w.number("avx2_torch", avx2.torch.clone(), avx2.torch.clone());
    let bench_avx2: Bench = read(w, BENCH_AVX2)?;
    let verdict = winograd_verdict(&bench_avx2);
    w.number("winograd_verdict_avx2", verdict.clone(), verdict);
    let missed = misses(&avx2);
    w.number("avx2_misses", missed.clone(), missed);
    let missed = misses(&comparison);
    w.number("avx512_misses", missed.clone(), missed);
    // The kernels that the portable ones replaced, by turns on one machine.
    let versus: Versus = read(w, VERSUS)?;
    w.snippet("versus.md", &versus.table(), VERSUS)?;
    let slower = versus.changed(true, 0.05);
    w.number("versus_slower", slower.clone(), slower);
    let faster = versus.changed(false, 0.05);
    w.number("versus_faster", faster.clone(), faster);
    // The worst row on one thread (those on two are the noisy ones, see the appendix).
    if let Some(worst) = versus
        .rows
        .iter()
        .filter(|r| r.threads == 1)
        .max_by(|a, b| (a.now_ms / a.before_ms).total_cmp(&(b.now_ms / b.before_ms)))
    {
        let ratio = worst.now_ms / worst.before_ms;
        let shown = format!(
            "{:.0}% ({}, {})",
            100.0 * (ratio - 1.0),
            short(&worst.name),
            worst.pass
        );
        w.number("versus_worst", shown, ratio);
    }
    for (key, c) in [("avx512", &comparison), ("avx2", &avx2)] {
        for (pass, limit, name) in [("fwd+bwd", 0.9, "both"), ("forward", 1.0, "forward")] {
            let (good, all) = conv_rows_within(c, pass, limit);
            w.number(&format!("{key}_{name}_good"), good.to_string(), good);
            w.number(&format!("{key}_{name}_rows"), all.to_string(), all);
        }
    }
    Ok(())
}

/// Where Winograd's F(2x2, 3x3) beats the direct kernels in `bench` (one thread, forward
/// and backward), in words: "wins on both layers", or "loses on the 32-channel layer and
/// wins on the 64-channel layer", from the kernel table's times.
fn winograd_verdict(bench: &Bench) -> String {
    let parts: Vec<(&str, &str)> = bench
        .kernels
        .iter()
        .filter(|k| k.winograd_applies)
        .map(|k| {
            let channels = k
                .name
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.split("->").next())
                .unwrap_or("?");
            let forward = k.winograd.forward_ms < k.direct.forward_ms;
            let backward = k.winograd.backward_ms < k.direct.backward_ms;
            let how = match (forward, backward) {
                (true, true) => "wins",
                (false, false) => "loses",
                (true, false) => "wins forward and loses backward",
                (false, true) => "loses forward and wins backward",
            };
            (how, channels)
        })
        .collect();
    match parts.as_slice() {
        [(a, _), (b, _)] if a == b => format!("{a} on both layers"),
        _ => parts
            .iter()
            .map(|(how, channels)| format!("{how} on the {channels}-channel layer"))
            .collect::<Vec<_>>()
            .join(" and "),
    }
}

/// The rows of `c` that miss the marks the chapter counts (a convolution's forward and
/// backward pass above 0.9 of PyTorch's time or its forward pass above 1.0, an epoch above
/// 0.9), in words: `"none"`, or each with its pass, threads and ratio.
fn misses(c: &Comparison) -> String {
    let rows: Vec<String> = c
        .rows
        .iter()
        .filter(|r| {
            let ratio = r.cnn_book / r.pytorch;
            let conv = CONV_NAMES.contains(&r.name.as_str());
            match r.pass.as_str() {
                "fwd+bwd" if conv => ratio > 0.9,
                "forward" if conv => ratio > 1.0,
                "train" => ratio > 0.9,
                _ => false,
            }
        })
        .map(|r| row_in_words(&r.name, &r.pass, r.threads, r.cnn_book / r.pytorch))
        .collect();
    rows_in_words(&rows)
}

/// The convolution rows of `c` for `pass` whose ratio is at most `limit`, and all of them.
fn conv_rows_within(c: &Comparison, pass: &str, limit: f64) -> (usize, usize) {
    let rows: Vec<&CompareRow> = c
        .rows
        .iter()
        .filter(|r| r.pass == pass && CONV_NAMES.contains(&r.name.as_str()))
        .collect();
    let good = rows
        .iter()
        .filter(|r| r.cnn_book / r.pytorch <= limit)
        .count();
    (good, rows.len())
}

/// The names of the five convolutions of the benchmark, as the comparisons record them.
const CONV_NAMES: [&str; 5] = [
    "LeNet conv1 1->6, 28x28, 5x5, pad 2",
    "LeNet conv2 6->16, 14x14, 5x5",
    "3x3 32->32, 28x28, pad 1",
    "3x3 64->64, 14x14, pad 1",
    "ResNet 3x3 16->16, 28x28, pad 1",
];
