//! Figures and numbers of chapter `03-parameter-sharing`.

use super::{markdown_table, GenResult, Writer};
use crate::format::{scientific_tex, thousands};
use crate::fully_connected::dense_params;
use crate::plot::log_bar_chart;
use crate::shape::{Rounding, Window};
use crate::sharing::{
    layer_counts, tiling_widths, ALEXNET_CONV1, ALEXNET_INPUT, ALEXNET_PAPER_CONV1_NEURONS,
    ALEXNET_PAPER_INPUT,
};

pub fn generate(w: &mut Writer) -> GenResult {
    let c = layer_counts(ALEXNET_INPUT, ALEXNET_CONV1)?;
    w.count("input_side", ALEXNET_INPUT.width as u64);
    w.count("output_side", c.output.width as u64);
    w.count("filters", ALEXNET_CONV1.filters as u64);
    w.count("neurons", c.neurons);
    w.count("weights_per_neuron", c.weights_per_neuron);
    w.count("params_per_neuron", c.params_per_neuron);
    w.count("unshared", c.unshared_params);
    w.number(
        "unshared_sci",
        scientific_tex(c.unshared_params as f64, 3),
        c.unshared_params,
    );
    w.count("shared", c.shared_params);
    let positions = (c.output.width * c.output.height) as u64;
    w.count("positions", positions);
    w.count("inputs", ALEXNET_INPUT.len());
    let dense = dense_params(ALEXNET_INPUT.len(), c.neurons);
    w.count("dense", dense);
    w.number("dense_sci", scientific_tex(dense as f64, 3), dense);

    let chart = log_bar_chart(
        "AlexNet's first layer (227x227x3 -> 55x55x96): parameters",
        "parameters",
        &[
            ("fully connected".to_string(), dense as f64),
            ("locally connected".to_string(), c.unshared_params as f64),
            ("convolutional".to_string(), c.shared_params as f64),
        ],
    )?;
    w.figure("alexnet-params.svg", &chart, "ALEXNET_INPUT, ALEXNET_CONV1")?;

    // The paper's 224: what the formula says, and what frameworks would silently do.
    let window = ALEXNET_CONV1.window()?;
    let paper = ALEXNET_PAPER_INPUT.width;
    let span = paper - window.field;
    w.number(
        "paper_quotient",
        format!(
            "{span}/{} + 1 = {}",
            window.stride,
            span as f64 / window.stride as f64 + 1.0
        ),
        span as f64 / window.stride as f64 + 1.0,
    );
    w.number(
        "paper_error",
        window.output_size(paper).unwrap_err().to_string(),
        Option::<u64>::None,
    );
    let floor = window.output_size_with(paper, Rounding::Floor)?;
    w.count("paper_floor_side", floor as u64);
    w.count(
        "paper_floor_neurons",
        (floor * floor * ALEXNET_CONV1.filters) as u64,
    );
    w.count("paper_neurons", ALEXNET_PAPER_CONV1_NEURONS);
    let per_filter = ALEXNET_PAPER_CONV1_NEURONS / ALEXNET_CONV1.filters as u64;
    w.count("paper_per_filter", per_filter);
    w.number(
        "paper_per_filter_sqrt",
        format!("{:.2}", (per_filter as f64).sqrt()),
        (per_filter as f64).sqrt(),
    );

    // The second layer follows from 55x55 after AlexNet's 3x3 pooling with stride 2, and
    // has 256 filters: the paper's 186,624 neurons.
    let pooled = Window::new(3, 0, 2)?.output_size(c.output.width)?;
    w.count("pooled_side", pooled as u64);
    w.count("conv2_neurons", (pooled * pooled * 256) as u64);

    let widths = tiling_widths(220..=231, window.field, window.padding, window.stride);
    w.number(
        "tiling_widths",
        widths
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        widths.clone(),
    );
    let rows: Vec<Vec<String>> = (220..=231)
        .map(|iw| {
            let exact = window
                .output_size(iw)
                .map_or("no".to_string(), |n| format!("yes: {n}"));
            let floor = window.output_size_with(iw, Rounding::Floor).unwrap_or(0);
            vec![
                iw.to_string(),
                format!(
                    "{}/4 + 1 = {}",
                    iw - window.field,
                    (iw - window.field) as f64 / 4.0 + 1.0
                ),
                exact,
                thousands((floor * floor * ALEXNET_CONV1.filters) as u64),
            ]
        })
        .collect();
    let table = markdown_table(
        &[
            "W",
            "(W - 11)/4 + 1",
            "tiles exactly?",
            "neurons if floored (x 96)",
        ],
        &rows,
    );
    w.snippet(
        "input-sizes.md",
        &table,
        "W = 220..231, F = 11, S = 4, P = 0, 96 filters",
    )?;
    Ok(())
}
