//! Figures and numbers of chapter `06-conv-as-matrix`.

use std::path::Path;

use ndarray::{Array2, Array4};
use serde::Deserialize;

use super::{markdown_table, GenResult, Writer};
use crate::conv::Conv2dConfig;
use crate::conv_matrix::{conv_matrix, conv_transpose2d};
use crate::format::thousands;
use crate::plot::{grouped_log_bar_chart, labelled_matrix, shaded_matrix};

/// Where `cargo bench --bench conv -- --save` writes its measurements, relative to the
/// repository root. They are an input of the generator, like a data set: timings differ
/// from run to run, the figure drawn from one set of timings does not.
pub const BENCH_RESULTS: &str = "benches/results/conv.json";

/// One measured case of the benchmark `benches/conv.rs`.
#[derive(Debug, Deserialize)]
pub struct BenchCase {
    pub name: String,
    pub naive_ms: f64,
    pub im2col_ms: f64,
}

/// The file `cargo bench --bench conv -- --save` writes.
#[derive(Debug, Deserialize)]
pub struct BenchReport {
    pub machine: String,
    pub threads: usize,
    pub cases: Vec<BenchCase>,
}
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::{draw_svg, draw_title, PlotResult};
use crate::shape::Window;
use crate::style::{FONT, GREY, PALETTE};

pub fn generate(w: &mut Writer) -> GenResult {
    // The 4x16 matrix of a 3x3 kernel on a 4x4 input.
    let kernel = Array2::from_shape_fn((3, 3), |(u, v)| (u * 3 + v + 1) as f32);
    let c = conv_matrix(4, 4, kernel.view(), Conv2dConfig::default())?;
    let svg = labelled_matrix(
        "C for a 3x3 kernel on a 4x4 input: 4 outputs x 16 inputs",
        c.nrows(),
        c.ncols(),
        &|r, col| {
            let v = c[[r, col]];
            (v != 0.0).then(|| {
                let k = v as usize - 1;
                format!("w{}{}", k / 3, k % 3)
            })
        },
    )?;
    w.figure(
        "matrix-4x16.svg",
        &svg,
        "3x3 kernel w[u][v], 4x4 input, S = 1, P = 0",
    )?;
    w.number("c_rows", c.nrows().to_string(), c.nrows());
    w.number("c_cols", c.ncols().to_string(), c.ncols());

    // Sparsity: how much of C is zero, for small and realistic sizes.
    let cases = [
        ("4x4 input, 3x3 kernel", 4, 3, 1, 0),
        ("6x6 input, 3x3 kernel, padding 1", 6, 3, 1, 1),
        ("7x7 input, 3x3 kernel, stride 2, padding 1", 7, 3, 2, 1),
        ("28x28 input, 5x5 kernel, padding 2", 28, 5, 1, 2),
    ];
    let mut rows = Vec::new();
    for (i, &(name, size, f, s, p)) in cases.iter().enumerate() {
        let k = Array2::<f32>::ones((f, f));
        let c = conv_matrix(size, size, k.view(), Conv2dConfig::new(s, p))?;
        let nonzero = c.iter().filter(|&&v| v != 0.0).count();
        let total = c.len();
        rows.push(vec![
            name.to_string(),
            format!("{} x {}", c.nrows(), c.ncols()),
            thousands(total as u64),
            thousands(nonzero as u64),
            format!("{:.1}%", 100.0 * nonzero as f64 / total as f64),
        ]);
        if i > 0 && i < 3 {
            let svg = sparsity_pattern(
                &format!(
                    "C: {name} ({:.0}% non-zero; rows: outputs, columns: inputs)",
                    100.0 * nonzero as f64 / total as f64
                ),
                c.view(),
            )?;
            w.figure(&format!("sparsity-{i}.svg"), &svg, name)?;
        }
        if i == 3 {
            w.number(
                "mnist_c_density",
                format!("{:.1}%", 100.0 * nonzero as f64 / total as f64),
                nonzero as f64 / total as f64,
            );
        }
    }
    let table = markdown_table(
        &["convolution", "C", "entries", "non-zero", "density"],
        &rows,
    );
    w.snippet(
        "sparsity.md",
        &table,
        "all-ones kernels, so every structural non-zero shows",
    )?;

    // Transposed convolution of an all-ones 3x3 input with an all-ones 3x3 kernel at
    // stride 2: the overlaps of the stamped kernels count 1, 2 or 4 (the checkerboard).
    let ones = Array4::<f32>::ones((1, 1, 3, 3));
    let k3 = Array4::<f32>::ones((1, 1, 3, 3));
    let stamped = conv_transpose2d(ones.view(), k3.view(), Conv2dConfig::new(2, 0), (7, 7))?;
    let svg = shaded_matrix(
        "Transposed convolution, stride 2: ones in, overlap counts out",
        stamped.slice(ndarray::s![0, 0, .., ..]),
    )?;
    w.figure(
        "checkerboard.svg",
        &svg,
        "3x3 ones through a 3x3 kernel of ones, stride 2, output 7x7",
    )?;

    // im2col, drawn, and its memory cost.
    let input = Array2::from_shape_fn((3, 3), |(r, q)| (3 * r + q + 1) as f32);
    let svg = im2col_picture(input.view(), 2, 1)?;
    w.figure("im2col.svg", &svg, "3x3 input 1..9, 2x2 windows, stride 1")?;
    let x = Array4::<f32>::zeros((1, 64, 28, 28));
    let cols = crate::im2col::im2col(x.view(), 3, 3, Conv2dConfig::new(1, 1))?;
    w.number(
        "blowup_3x3",
        format!("{:.1}", cols.len() as f64 / x.len() as f64),
        cols.len() as f64 / x.len() as f64,
    );

    // Speed, from the committed benchmark results (rerun: cargo bench --bench conv -- --save).
    // The benchmark's results are committed beside the book, in the repository.
    let root = w.book_dir().parent().unwrap_or(Path::new("."));
    let bench_path = root.join(BENCH_RESULTS);
    if let Some(report) = read_bench(&bench_path)? {
        let mut rows = Vec::new();
        for case in &report.cases {
            rows.push(vec![
                case.name.clone(),
                format!("{:.2}", case.naive_ms),
                format!("{:.2}", case.im2col_ms),
                format!("{:.1}x", case.naive_ms / case.im2col_ms),
            ]);
        }
        // Short group labels: the part of each case's name before the first comma.
        let groups: Vec<String> = report
            .cases
            .iter()
            .map(|c| c.name.split(',').next().unwrap_or(&c.name).to_string())
            .collect();
        let chart = grouped_log_bar_chart(
            "Forward pass of one batch of 16, median milliseconds",
            "ms",
            &groups,
            &[
                (
                    "naive loops".to_string(),
                    report.cases.iter().map(|c| c.naive_ms).collect(),
                ),
                (
                    "im2col + GEMM".to_string(),
                    report.cases.iter().map(|c| c.im2col_ms).collect(),
                ),
            ],
        )?;
        w.figure("bench.svg", &chart, BENCH_RESULTS)?;
        let mut table = markdown_table(
            &["case", "naive (ms)", "im2col + GEMM (ms)", "speed-up"],
            &rows,
        );
        table.push_str(&format!(
            "\nMeasured on {}, {} thread(s).\n",
            report.machine, report.threads
        ));
        w.snippet("bench.md", &table, BENCH_RESULTS)?;
    }
    Ok(())
}

fn read_bench(path: &Path) -> crate::Result<Option<BenchReport>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, &e))?;
    let report = serde_json::from_str(&text)
        .map_err(|e| crate::Error::Invalid(format!("{}: {e}", path.display())))?;
    Ok(Some(report))
}

// The chapter's diagrams, which its notebook draws too.

/// The sparsity pattern of a matrix: one small square per entry, dark where it is non-zero.
pub fn sparsity_pattern(title: &str, matrix: ndarray::ArrayView2<f32>) -> PlotResult {
    let (rows, cols) = matrix.dim();
    let cell = (640 / cols.max(rows).max(1)).clamp(2, 24) as i32;
    let (left, top) = (20i32, 50i32);
    let width = ((left * 2 + cols as i32 * cell) as u32).max(360);
    let height = (top + rows as i32 * cell + 20) as u32;
    draw_svg((width, height), |root| {
        draw_title(root, title, width, 12, 16)?;
        root.draw(&Rectangle::new(
            [
                (left, top),
                (left + cols as i32 * cell, top + rows as i32 * cell),
            ],
            RGBColor(245, 245, 245).filled(),
        ))?;
        for ((r, c), &v) in matrix.indexed_iter() {
            if v != 0.0 {
                let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    PALETTE[0].filled(),
                ))?;
            }
        }
        root.draw(&Rectangle::new(
            [
                (left, top),
                (left + cols as i32 * cell, top + rows as i32 * cell),
            ],
            GREY.stroke_width(1),
        ))?;
        Ok(())
    })
}

// ANCHOR: im2col_picture
/// im2col drawn: an input with the windows of a `field x field` convolution outlined in
/// colours, and the patch matrix whose column `n` holds window `n`, in the same colour.
pub fn im2col_picture(input: ndarray::ArrayView2<f32>, field: usize, stride: usize) -> PlotResult {
    let (h, w) = input.dim();
    let window = Window::new(field, 0, stride)?;
    let (oh, ow) = (window.output_size(h)?, window.output_size(w)?);
    let x4 = input.to_owned().into_shape_with_order((1, 1, h, w))?;
    let config = crate::conv::Conv2dConfig::new(stride, 0);
    let cols = crate::im2col::im2col(x4.view(), field, field, config)?;
    let cell = 40i32;
    let (left, top) = (20i32, 80i32);
    let mat_left = left + w as i32 * cell + 90;
    let width = ((mat_left + cols.ncols() as i32 * cell + 20) as u32).max(720);
    let height = (top + (cols.nrows().max(h) as i32) * cell + 30) as u32;
    let label = |text: String, x: i32| {
        Text::new(
            text,
            (x, top - 12),
            (FONT, 14)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        )
    };
    draw_svg((width, height), |root| {
        root.draw(&Text::new(
            format!(
                "im2col: {field}x{field} windows, stride {stride}: every window becomes a column"
            ),
            (width as i32 / 2, 12),
            (FONT, 17)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        root.draw(&label(format!("input {h}x{w}"), left))?;
        root.draw(&label(
            format!(
                "patch matrix {}x{} (F·F rows, one column per output)",
                cols.nrows(),
                cols.ncols()
            ),
            mat_left,
        ))?;
        for ((r, q), v) in input.indexed_iter() {
            let (x, y) = (left + q as i32 * cell, top + r as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                GREY.stroke_width(1),
            ))?;
            root.draw(&Text::new(
                format!("{v}"),
                (x + cell / 2, y + cell / 2),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        for n in 0..oh * ow {
            let color = PALETTE[n % PALETTE.len()];
            let (i, j) = (n / ow, n % ow);
            let inset = 3 + 3 * (n as i32 % 3);
            let (x0, y0) = (
                left + (j * stride) as i32 * cell,
                top + (i * stride) as i32 * cell,
            );
            let (x1, y1) = (x0 + field as i32 * cell, y0 + field as i32 * cell);
            root.draw(&Rectangle::new(
                [(x0 + inset, y0 + inset), (x1 - inset, y1 - inset)],
                color.stroke_width(3),
            ))?;
            for r in 0..cols.nrows() {
                let (x, y) = (mat_left + n as i32 * cell, top + r as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    color.mix(0.3).filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    GREY.stroke_width(1),
                ))?;
                root.draw(&Text::new(
                    format!("{}", cols[[r, n]]),
                    (x + cell / 2, y + cell / 2),
                    (FONT, 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
        }
        Ok(())
    })
}
// ANCHOR_END: im2col_picture
