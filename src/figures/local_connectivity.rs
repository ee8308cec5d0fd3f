//! Figures and numbers of chapter `02-local-connectivity`.

use super::{markdown_table, GenResult, Writer};
use crate::format::thousands;
use crate::plot::{connectivity_diagram, window_grid, Highlight};
use crate::shape::{receptive_field, ConvGeometry, Rounding, Volume, Window};

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
