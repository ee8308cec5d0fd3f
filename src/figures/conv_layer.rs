//! Figures and numbers of chapter `05-conv-layer`.

use ndarray::{array, s, Array3, Array4};

use super::{GenResult, Writer};
use crate::conv::{classic_filters, conv2d_naive, conv2d_single, Conv2dConfig};
use crate::data::fashion_mnist::{sample, CLASS_NAMES};
use crate::raster::{image_grid, Panel, Shading};

/// The slides' first demo: a 5x5 binary image and the 3x3 "X" filter.
pub fn demo_one() -> (Array3<f32>, Array4<f32>) {
    let image = array![
        [1., 1., 1., 0., 0.],
        [0., 1., 1., 1., 0.],
        [0., 0., 1., 1., 1.],
        [0., 0., 1., 1., 0.],
        [0., 1., 1., 0., 0.]
    ];
    let filter = array![[1., 0., 1.], [0., 1., 0.], [1., 0., 1.]];
    (
        image.into_shape_with_order((1, 5, 5)).expect("5x5"),
        filter.into_shape_with_order((1, 1, 3, 3)).expect("3x3"),
    )
}

/// The second demo: 3 channels of 5x5 and 2 filters of 3x3x3 with biases 1 and 0.
pub fn demo_two() -> (Array3<f32>, Array4<f32>, [f32; 2]) {
    let x = Array3::from_shape_fn((3, 5, 5), |(c, r, q)| ((c + 2 * r + q) % 3) as f32);
    let w = Array4::from_shape_fn((2, 3, 3, 3), |(k, c, u, v)| {
        ((k + c + 2 * u + v) % 3) as f32 - 1.
    });
    (x, w, [1., 0.])
}

/// An output map as a Markdown table, rows labelled `i`, columns `j`.
fn matrix_table(m: ndarray::ArrayView2<f32>) -> String {
    let header: Vec<String> = std::iter::once(String::new())
        .chain((0..m.ncols()).map(|j| format!("j = {j}")))
        .collect();
    let rows: Vec<Vec<String>> = m
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            std::iter::once(format!("**i = {i}**"))
                .chain(row.iter().map(|v| v.to_string()))
                .collect()
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    super::markdown_table(&header, &rows)
}
use ndarray::{ArrayView2, ArrayView3, ArrayView4};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::conv::ConvDims;
use crate::error::Error;
use crate::raster::{draw_rgb, encode_gif, text_style, Area, DrawResult, Gif};
use crate::style::PALETTE;

pub fn generate(w: &mut Writer) -> GenResult {
    let (image, filter) = demo_one();
    let gif = conv_animation(image.view(), filter.view(), &[0.0], Conv2dConfig::default())?;
    w.figure_bytes(
        "demo-one-channel.gif",
        &gif.0,
        "the slides' 5x5 image and 3x3 filter, S = 1, P = 0",
    )?;
    let y = conv2d_single(
        image.slice(s![0, .., ..]),
        filter.slice(s![0, 0, .., ..]),
        Conv2dConfig::default(),
    )?;
    w.snippet("demo-one-output.md", &matrix_table(y.view()), "demo one")?;
    // The peak and the floor of the map, and the score of a full X (every tap on a one).
    let (peak, floor) = y
        .iter()
        .fold((f32::MIN, f32::MAX), |(hi, lo), &v| (hi.max(v), lo.min(v)));
    let full_x = filter.iter().filter(|&&v| v == 1.0).count();
    w.number("demo_one_peak", format!("{peak}"), peak);
    w.number("demo_one_floor", format!("{floor}"), floor);
    w.number("demo_one_full_x", format!("{full_x}"), full_x);

    let (x, wt, b) = demo_two();
    let config = Conv2dConfig::new(2, 1);
    let gif = conv_animation(x.view(), wt.view(), &b, config)?;
    w.figure_bytes(
        "demo-three-channels.gif",
        &gif.0,
        "x = (c + 2r + q) mod 3, w = ((k + c + 2u + v) mod 3) - 1, b = (1, 0), S = 2, P = 1",
    )?;
    let x4 = x.clone().into_shape_with_order((1, 3, 5, 5))?;
    let bias = ndarray::Array1::from(b.to_vec());
    let y = conv2d_naive(x4.view(), wt.view(), Some(bias.view()), config)?;
    for k in 0..2 {
        w.snippet(
            &format!("demo-two-output-{k}.md"),
            &matrix_table(y.slice(s![0, k, .., ..])),
            "demo two",
        )?;
    }
    w.number(
        "demo_two_output",
        format!("{}x{}x{}", y.dim().2, y.dim().3, y.dim().1),
        format!("{:?}", y.dim()),
    );

    // Stride 2 and padding 1 on one channel: a 7x7 input, edge filter.
    let ramp = Array3::from_shape_fn((1, 7, 7), |(_, r, q)| {
        // A vertical edge between columns 2 and 3, on a faint horizontal stripe pattern.
        (if q >= 3 { 2.0 } else { 0.0 }) + (r % 2) as f32
    });
    let edge =
        array![[-1., 0., 1.], [-1., 0., 1.], [-1., 0., 1.]].into_shape_with_order((1, 1, 3, 3))?;
    let gif = conv_animation(ramp.view(), edge.view(), &[0.0], config)?;
    w.figure_bytes(
        "stride2-padding1.gif",
        &gif.0,
        "7x7 input with a vertical edge after column 2 plus (r mod 2), vertical-edge filter, S = 2, P = 1",
    )?;

    // Classic filters on real Fashion-MNIST images: the first test image of four classes.
    let data = sample();
    let classes = [9u8, 1, 0, 8];
    let filters = classic_filters();
    let same = Conv2dConfig::new(1, 1);
    let mut panels = Vec::new();
    for class in classes {
        let index = data
            .labels
            .iter()
            .position(|&l| l == class)
            .ok_or_else(|| crate::Error::Invalid("class missing from the sample".into()))?;
        let img = data.image(index);
        for (name, kernel) in filters.iter() {
            let (title, out, shading) = if *name == "identity" {
                (
                    format!("{} (#{index})", CLASS_NAMES[class as usize]),
                    img.clone(),
                    Shading::Grey,
                )
            } else {
                let out = conv2d_single(img.view(), kernel.view(), same)?;
                let shading = if name.contains("blur") || name.contains("sharpen") {
                    Shading::Grey
                } else {
                    Shading::Signed
                };
                (
                    name.split(" (").next().unwrap_or(name).to_string(),
                    out,
                    shading,
                )
            };
            panels.push(Panel {
                title,
                image: out,
                shading,
            });
        }
    }
    let png = image_grid(&panels, filters.len(), 4)?;
    w.figure_bytes(
        "classic-filters.png",
        &png.0,
        "Fashion-MNIST sample, first image of classes 9, 1, 0, 8; classic_filters(), S = 1, P = 1",
    )?;
    Ok(())
}

// The chapter's animation, which its notebook draws too.

/// Formats a number for a grid cell: integers without decimals, others with two.
fn cell_text(v: f32) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

/// Draws a grid of numbers with its top-left corner at `(x, y)`; `padding` rings of cells
/// around the values are drawn as grey zeros.
#[allow(clippy::too_many_arguments)]
fn number_grid(
    root: &Area,
    (x, y): (i32, i32),
    cell: i32,
    values: ArrayView2<f32>,
    padding: usize,
    shown: &dyn Fn(usize, usize) -> bool,
    label: &str,
    font: f64,
) -> DrawResult {
    let (h, w) = values.dim();
    let p = padding as i32;
    root.draw(&Text::new(
        label.to_string(),
        (x, y - 6),
        text_style(font, BLACK, HPos::Left, VPos::Bottom),
    ))?;
    for r in -p..h as i32 + p {
        for q in -p..w as i32 + p {
            let (cx, cy) = (x + (q + p) * cell, y + (r + p) * cell);
            let padding_cell = r < 0 || q < 0 || r >= h as i32 || q >= w as i32;
            let fill = if padding_cell {
                RGBColor(235, 235, 235)
            } else {
                WHITE
            };
            root.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                fill.filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                RGBColor(160, 160, 160),
            ))?;
            let text = if padding_cell {
                Some(("0".to_string(), RGBColor(150, 150, 150)))
            } else if shown(r as usize, q as usize) {
                Some((cell_text(values[[r as usize, q as usize]]), BLACK))
            } else {
                None
            };
            if let Some((t, color)) = text {
                root.draw(&Text::new(
                    t,
                    (cx + cell / 2, cy + cell / 2),
                    text_style(font, color, HPos::Center, VPos::Center),
                ))?;
            }
        }
    }
    Ok(())
}

// ANCHOR: conv_animation
/// An animated GIF of a convolution computed by the library: one frame per output value,
/// showing the receptive field on every input channel, the filter in use, and the output
/// filled in so far, with the dot product written out underneath.
///
/// - `input`: `(C, H, W)`; `weight`: `(K, C, KH, KW)`; `bias`: one value per filter.
pub fn conv_animation(
    input: ArrayView3<f32>,
    weight: ArrayView4<f32>,
    bias: &[f32],
    config: Conv2dConfig,
) -> Result<Gif, Error> {
    let (c, h, w) = input.dim();
    let d = ConvDims::new((1, c, h, w), weight.dim(), config)?;
    if bias.len() != d.filters {
        return Err(Error::Shape(format!(
            "{} biases for {} filters",
            bias.len(),
            d.filters
        )));
    }
    let x4 = input.to_owned().into_shape_with_order((1, c, h, w))?;
    let b = ndarray::Array1::from(bias.to_vec());
    let output = crate::conv::conv2d_naive(x4.view(), weight, Some(b.view()), config)?;

    let p = config.padding;
    let cell = if c == 1 { 40 } else { 28 };
    let font = if c == 1 { 16.0 } else { 13.0 };
    let (kh, kw, oh, ow) = (d.kernel_height, d.kernel_width, d.out_height, d.out_width);
    let in_w = (w + 2 * p) as i32 * cell;
    let in_h = (h + 2 * p) as i32 * cell;
    let label_h = 26;
    let col_x = [
        20,
        20 + in_w + 40,
        20 + in_w + 40 + (kw as i32 * cell + 30) * d.filters as i32 + 10,
    ];
    let block_h = in_h.max(kh as i32 * cell).max(oh as i32 * cell) + label_h + 8;
    let text_lines = if c == 1 { 2 } else { c as i32 + 2 };
    let size = (
        (col_x[2] + ow as i32 * cell + 30) as u32,
        (label_h + block_h * c as i32 + 22 * text_lines + 20) as u32,
    );

    let steps: Vec<(usize, usize, usize)> = (0..d.filters)
        .flat_map(|k| (0..oh).flat_map(move |i| (0..ow).map(move |j| (k, i, j))))
        .collect();
    let mut frames = Vec::new();
    for (step, &(k, i, j)) in steps.iter().enumerate() {
        let highlight = PALETTE[k % PALETTE.len()];
        let rgb = draw_rgb(size, |root| {
            for ch in 0..c {
                let top = label_h + ch as i32 * block_h + label_h;
                let x_label = if c == 1 {
                    "input x".to_string()
                } else {
                    format!("input x, channel {ch}")
                };
                number_grid(
                    root,
                    (col_x[0], top),
                    cell,
                    input.index_axis(ndarray::Axis(0), ch),
                    p,
                    &|_, _| true,
                    &x_label,
                    font,
                )?;
                // The receptive field of output (i, j), in padded coordinates.
                let (x0, y0) = (
                    col_x[0] + (j * config.stride) as i32 * cell,
                    top + (i * config.stride) as i32 * cell,
                );
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + kw as i32 * cell, y0 + kh as i32 * cell)],
                    highlight.stroke_width(3),
                ))?;
                for f in 0..d.filters {
                    let fx = col_x[1] + f as i32 * (kw as i32 * cell + 30);
                    let kernel = weight.slice(ndarray::s![f, ch, .., ..]);
                    let label = if c == 1 {
                        "filter w".to_string()
                    } else {
                        format!("w{f}, ch {ch}")
                    };
                    number_grid(root, (fx, top), cell, kernel, 0, &|_, _| true, &label, font)?;
                    if f == k {
                        root.draw(&Rectangle::new(
                            [(fx, top), (fx + kw as i32 * cell, top + kh as i32 * cell)],
                            highlight.stroke_width(3),
                        ))?;
                    }
                }
            }
            // Output maps, filled in up to the current step.
            for f in 0..d.filters {
                let top = label_h + f as i32 * block_h + label_h;
                let done = |r: usize, q: usize| steps[..=step].contains(&(f, r, q));
                let label = if d.filters == 1 {
                    "output y".to_string()
                } else {
                    format!("output y{f}")
                };
                number_grid(
                    root,
                    (col_x[2], top),
                    cell,
                    output.slice(ndarray::s![0, f, .., ..]),
                    0,
                    &done,
                    &label,
                    font,
                )?;
                if f == k {
                    let (x0, y0) = (col_x[2] + j as i32 * cell, top + i as i32 * cell);
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x0 + cell, y0 + cell)],
                        highlight.stroke_width(3),
                    ))?;
                }
            }
            // The dot product, written out.
            let mut lines = Vec::new();
            let mut total = bias[k];
            for ch in 0..c {
                let mut terms = Vec::new();
                let mut sum = 0.0;
                for u in 0..kh {
                    for v in 0..kw {
                        let xv = d.source(i, j, u, v).map_or(0.0, |(r, q)| input[[ch, r, q]]);
                        let wv = weight[[k, ch, u, v]];
                        sum += xv * wv;
                        terms.push(format!("{}·{}", cell_text(xv), cell_text(wv)));
                    }
                }
                total += sum;
                lines.push(if c == 1 {
                    format!("{} = {}", terms.join(" + "), cell_text(sum))
                } else {
                    format!(
                        "channel {ch}: sum of x·w{k} over the window = {}",
                        cell_text(sum)
                    )
                });
            }
            lines.push(format!(
                "y{}[{i}, {j}] = {}bias {} = {}",
                if d.filters == 1 {
                    String::new()
                } else {
                    k.to_string()
                },
                if c == 1 {
                    "that + ".to_string()
                } else {
                    "channel sums + ".to_string()
                },
                cell_text(bias[k]),
                cell_text(total)
            ));
            let y_text = label_h + block_h * c as i32 + 8;
            for (n, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (20, y_text + 22 * n as i32),
                    text_style(font - 1.0, BLACK, HPos::Left, VPos::Top),
                ))?;
            }
            Ok(())
        })?;
        let last = step + 1 == steps.len();
        frames.push((rgb, if last { 300 } else { 110 }));
    }
    encode_gif(size, &frames)
}
// ANCHOR_END: conv_animation
