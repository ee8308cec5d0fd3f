//! Figures and numbers of chapter `02-local-connectivity`.

use super::{markdown_table, GenResult, Writer};
use crate::format::thousands;
use crate::shape::{receptive_field, ConvGeometry, Rounding, Volume, Window};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Error;
use crate::plot::{draw_svg, draw_title, PlotResult};
use crate::style::{FONT, GREY, LIGHT, PALETTE};

pub fn generate(w: &mut Writer) -> GenResult {
    // The slides' audio examples: 5 inputs, F = 3, P = 1, stride 1 and stride 2.
    for (stride, name) in [(1, "audio-stride1.svg"), (2, "audio-stride2.svg")] {
        let window = Window::new(3, 1, stride)?;
        let out = window.output_size(5)?;
        let svg = connectivity_diagram(
            &format!("1D: W = 5, F = 3, P = 1, S = {stride}  ->  {out} outputs"),
            5,
            &[window],
            Highlight::AllOutputs,
        )?;
        w.figure(name, &svg, "W = 5, F = 3, P = 1")?;
        w.count(&format!("audio_s{stride}_outputs"), out as u64);
    }

    // A stack of three 3-wide layers: the field of one top neuron grows by 2 per layer.
    let three = [Window::new(3, 0, 1)?; 3];
    let svg = connectivity_diagram(
        "Three layers with F = 3, S = 1: one top neuron sees 7 inputs",
        9,
        &three,
        Highlight::Output(1),
    )?;
    w.figure(
        "stack-3x3.svg",
        &svg,
        "W = 9, three layers F = 3, S = 1, P = 0; output 1",
    )?;
    let strided = [Window::new(3, 0, 2)?, Window::new(3, 0, 1)?];
    let svg = connectivity_diagram(
        "F = 3, S = 2, then F = 3, S = 1: the stride doubles the growth",
        11,
        &strided,
        Highlight::Output(1),
    )?;
    w.figure(
        "stack-strided.svg",
        &svg,
        "W = 11, layers (F = 3, S = 2) and (F = 3, S = 1); output 1",
    )?;

    // 2D windows on a 5x5 input with padding 1, at stride 1 and 2.
    for (stride, name, outputs) in [
        (1, "grid-stride1.svg", vec![(0, 0), (0, 1), (2, 3)]),
        (2, "grid-stride2.svg", vec![(0, 0), (0, 1), (1, 1)]),
    ] {
        let window = Window::new(3, 1, stride)?;
        let svg = window_grid(
            &format!("Receptive fields at stride {stride}"),
            (5, 5),
            window,
            &outputs,
        )?;
        w.figure(
            name,
            &svg,
            &format!("5x5 input, F = 3, P = 1, S = {stride}, outputs {outputs:?}"),
        )?;
    }

    // Output sizes for a set of cases, errors included, exactly as the library reports them.
    let cases: [(usize, usize, usize, usize); 11] = [
        (5, 3, 1, 1),
        (5, 3, 1, 2),
        (5, 3, 0, 1),
        (7, 3, 0, 2),
        (32, 5, 2, 1),
        (32, 3, 0, 1),
        (227, 11, 0, 4),
        (5, 3, 0, 3),
        (10, 3, 0, 2),
        (4, 7, 1, 1),
        (5, 3, 1, 0),
    ];
    let rows: Vec<Vec<String>> = cases
        .iter()
        .map(|&(iw, f, p, s)| {
            let result = match Window::new(f, p, s).and_then(|win| win.output_size(iw)) {
                Ok(n) => format!("**{n}**"),
                Err(e) => format!("error: {e}"),
            };
            let floor = Window::new(f, p, s)
                .and_then(|win| win.output_size_with(iw, Rounding::Floor))
                .map_or("-".to_string(), |n| n.to_string());
            vec![
                iw.to_string(),
                f.to_string(),
                p.to_string(),
                s.to_string(),
                result,
                floor,
            ]
        })
        .collect();
    let table = markdown_table(&["W", "F", "P", "S", "(W - F + 2P)/S + 1", "floor"], &rows);
    w.snippet(
        "output-sizes.md",
        &table,
        &format!("cases (W, F, P, S) = {cases:?}"),
    )?;

    // Receptive fields of stacks: 3x3 convolutions, with and without 2x2 pooling between.
    let conv3 = Window::new(3, 1, 1)?;
    let pool2 = Window::new(2, 0, 2)?;
    let mut rows = Vec::new();
    for n in 1..=5 {
        let plain = receptive_field(&vec![conv3; n])?;
        let mut pooled_stack = Vec::new();
        for i in 0..n {
            if i > 0 {
                pooled_stack.push(pool2);
            }
            pooled_stack.push(conv3);
        }
        let pooled = receptive_field(&pooled_stack)?;
        rows.push(vec![
            n.to_string(),
            plain.size.to_string(),
            pooled.size.to_string(),
            pooled.jump.to_string(),
        ]);
    }
    let table = markdown_table(
        &[
            "3x3 layers",
            "field, stride 1 only",
            "field, 2x2 pooling between",
            "jump with pooling",
        ],
        &rows,
    );
    w.snippet(
        "receptive-fields.md",
        &table,
        "n = 1..5 layers F = 3, S = 1, P = 1; pooling F = 2, S = 2",
    )?;

    // CIFAR-10 volumes: the input, and a 5x5 layer of 12 filters with padding 2.
    let cifar = Volume::square(32, 3);
    w.count("cifar_inputs", cifar.len());
    let layer = ConvGeometry {
        field: 5,
        stride: 1,
        padding: 2,
        filters: 12,
    };
    let out = layer.output(cifar)?;
    w.number("cifar_conv_output", out.to_string(), out.to_string());
    w.count("cifar_conv_neurons", out.len());
    w.count(
        "cifar_weights_per_neuron",
        (layer.field * layer.field * cifar.depth) as u64,
    );
    w.number("cifar_conv_neurons_plain", thousands(out.len()), out.len());
    Ok(())
}

// The chapter's diagrams, which its notebook draws too.

/// Which neurons of a connectivity diagram to draw in colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Highlight {
    /// Colour every output and its connections, one colour per output.
    AllOutputs,
    /// Trace the receptive field of output `index` of the top layer down to the input.
    Output(usize),
}

// ANCHOR: connectivity_diagram
/// Neurons in rows, one row per layer of a 1D stack (input at the bottom), with a line from
/// every neuron to each input its window sees. Padding zeros are drawn as hollow grey
/// circles. Shapes are checked first, so an impossible stack is an error, not a drawing.
pub fn connectivity_diagram(
    title: &str,
    input: usize,
    layers: &[Window],
    highlight: Highlight,
) -> PlotResult {
    let sizes = crate::shape::output_sizes(input, layers)?;
    // Row r holds `widths[r]` neurons; layer r maps row r to row r + 1.
    let mut widths = vec![input];
    widths.extend(&sizes);
    // Which neurons of each row the highlighted top neuron depends on.
    let mut lit: Vec<Vec<bool>> = widths.iter().map(|&w| vec![false; w]).collect();
    if let Highlight::Output(i) = highlight {
        let top = widths.len() - 1;
        if i >= widths[top] {
            return Err(Error::Figure(format!(
                "output {i} does not exist: the top row has {} neurons",
                widths[top]
            )));
        }
        lit[top][i] = true;
        for r in (0..top).rev() {
            for j in 0..widths[r + 1] {
                if lit[r + 1][j] {
                    for k in layers[r].real_inputs(j, widths[r]) {
                        lit[r][k] = true;
                    }
                }
            }
        }
    }

    // Neuron k of row r sits at `offset[r] + k * jump[r]` in units of input neurons: at
    // the centre of its window, with padding neurons (k < 0 or k >= width) beside the row.
    let (mut offset, mut jump) = (vec![0.0f64], vec![1.0f64]);
    for (r, l) in layers.iter().enumerate() {
        offset.push(offset[r] + jump[r] * ((l.field as f64 - 1.0) / 2.0 - l.padding as f64));
        jump.push(jump[r] * l.stride as f64);
    }
    let pos = |r: usize, k: i64| offset[r] + k as f64 * jump[r];
    let pad_of = |r: usize| layers.get(r).map_or(0, |l| l.padding as i64);
    let lo = (0..widths.len())
        .map(|r| pos(r, -pad_of(r)))
        .fold(0.0, f64::min);
    let hi = (0..widths.len())
        .map(|r| pos(r, widths[r] as i64 - 1 + pad_of(r)))
        .fold(0.0, f64::max);

    let (gap_x, gap_y, margin) = (46.0f64, 92i32, 40i32);
    let width = ((hi - lo + 1.0) * gap_x) as u32 + 2 * margin as u32 + 40;
    let height = ((widths.len() as i32 - 1) * gap_y + 2 * margin + 48) as u32;
    let y_of = |row: usize| 48 + margin + (widths.len() - 1 - row) as i32 * gap_y;
    let x_of = |p: f64| 40 + margin + ((p - lo) * gap_x + gap_x / 2.0) as i32;
    let top = widths.len() - 1;

    draw_svg((width, height), |root| {
        draw_title(root, title, width, 14, 18)?;
        // Connections first, so the neurons sit on top of them.
        for (r, layer) in layers.iter().enumerate() {
            for j in 0..widths[r + 1] {
                let (color, stroke) = match highlight {
                    Highlight::AllOutputs if r + 1 == top => (PALETTE[j % PALETTE.len()], 2),
                    _ if lit[r + 1][j] => (PALETTE[0], 2),
                    _ => (GREY, 1),
                };
                let from = (x_of(pos(r + 1, j as i64)), y_of(r + 1));
                for k in layer.input_span(j) {
                    root.draw(&PathElement::new(
                        vec![from, (x_of(pos(r, k)), y_of(r))],
                        color.stroke_width(stroke),
                    ))?;
                }
            }
        }
        for (r, &w) in widths.iter().enumerate() {
            let y = y_of(r);
            // Padding zeros read by the layer above this row.
            let pad = pad_of(r);
            for k in (-pad..0).chain(w as i64..w as i64 + pad) {
                let x = x_of(pos(r, k));
                root.draw(&Circle::new((x, y), 12, WHITE.filled()))?;
                root.draw(&Circle::new((x, y), 12, GREY.stroke_width(1)))?;
                root.draw(&Text::new(
                    "0",
                    (x, y),
                    (FONT, 13)
                        .into_font()
                        .color(&GREY)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
            for j in 0..w {
                let color = match highlight {
                    Highlight::AllOutputs if r == top => PALETTE[j % PALETTE.len()],
                    _ if lit[r][j] => PALETTE[0],
                    _ => RGBColor(90, 90, 90),
                };
                root.draw(&Circle::new(
                    (x_of(pos(r, j as i64)), y),
                    12,
                    color.filled(),
                ))?;
            }
            let name = if r == 0 {
                "input".to_string()
            } else {
                format!("layer {r}")
            };
            root.draw(&Text::new(
                name,
                (8, y),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    })
}
// ANCHOR_END: connectivity_diagram

// ANCHOR: window_grid
/// A 2D input (padding shaded) with the windows of chosen outputs outlined, and the
/// output grid beside it with the same outputs filled in matching colours.
///
/// `outputs` are `(row, column)` positions in the output.
pub fn window_grid(
    title: &str,
    input: (usize, usize),
    window: Window,
    outputs: &[(usize, usize)],
) -> PlotResult {
    let (rows, cols) = input;
    let out_rows = window.output_size(rows)?;
    let out_cols = window.output_size(cols)?;
    if let Some(&(r, c)) = outputs
        .iter()
        .find(|&&(r, c)| r >= out_rows || c >= out_cols)
    {
        return Err(Error::Figure(format!(
            "output ({r}, {c}) does not exist: the output is {out_rows}x{out_cols}"
        )));
    }
    let p = window.padding as i32;
    let cell = 40i32;
    let (in_w, in_h) = ((cols as i32 + 2 * p) * cell, (rows as i32 + 2 * p) * cell);
    let (left, top) = (30i32, 70i32);
    let out_left = left + in_w + 80;
    let width = (out_left + out_cols as i32 * cell + 30) as u32;
    let height = (top + in_h.max(out_rows as i32 * cell) + 30) as u32;
    // Top-left corner of input cell (i, j); padding cells have i or j < 0.
    let at = |i: i64, j: i64| (left + (j as i32 + p) * cell, top + (i as i32 + p) * cell);

    draw_svg((width, height), |root| {
        draw_title(root, title, width, 12, 18)?;
        let label = |text: String, x: i32| {
            Text::new(
                text,
                (x, top - 10),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
            )
        };
        root.draw(&label(
            format!(
                "input {rows}x{cols}, padding {}, field {}, stride {}",
                window.padding, window.field, window.stride
            ),
            left,
        ))?;
        root.draw(&label(format!("output {out_rows}x{out_cols}"), out_left))?;
        for i in -(p as i64)..rows as i64 + p as i64 {
            for j in -(p as i64)..cols as i64 + p as i64 {
                let padding = i < 0 || j < 0 || i >= rows as i64 || j >= cols as i64;
                let (x, y) = at(i, j);
                let fill = if padding { LIGHT } else { WHITE };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    GREY.stroke_width(1),
                ))?;
                if padding {
                    root.draw(&Text::new(
                        "0",
                        (x + cell / 2, y + cell / 2),
                        (FONT, 13)
                            .into_font()
                            .color(&GREY)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ))?;
                }
            }
        }
        for i in 0..out_rows {
            for j in 0..out_cols {
                let (x, y) = (out_left + j as i32 * cell, top + i as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    GREY.stroke_width(1),
                ))?;
            }
        }
        for (n, &(r, c)) in outputs.iter().enumerate() {
            let color = PALETTE[n % PALETTE.len()];
            let (rs, cs) = (window.input_span(r), window.input_span(c));
            let inset = 3 + 3 * n as i32;
            let (x0, y0) = at(rs.start, cs.start);
            let (x1, y1) = at(rs.end, cs.end);
            root.draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                color.mix(0.15).filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(x0 + inset, y0 + inset), (x1 - inset, y1 - inset)],
                color.stroke_width(3),
            ))?;
            let (x, y) = (out_left + c as i32 * cell, top + r as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                color.filled(),
            ))?;
        }
        Ok(())
    })
}
// ANCHOR_END: window_grid
