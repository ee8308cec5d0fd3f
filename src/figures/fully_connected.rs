//! Figures and numbers of chapter `01-fully-connected`.

use super::{markdown_table, GenResult, Writer};
use crate::format::thousands;
use crate::fully_connected::{dense_params, image_mlp_params, IMAGE_SETS};
use crate::plot::{line_chart, ChartSpec, Series};
use crate::shape::Volume;

/// Hidden units and classes of the chapter's network (the slides' example).
pub const HIDDEN: u64 = 100;
pub const CLASSES: u64 = 10;
/// The convolutional layer the chart compares with: 100 filters of 5x5.
const CONV_FIELD: u64 = 5;

pub fn generate(w: &mut Writer) -> GenResult {
    w.count("hidden", HIDDEN);
    w.count("classes", CLASSES);
    let mut rows = Vec::new();
    for set in IMAGE_SETS {
        let inputs = set.image.len();
        let first = dense_params(inputs, HIDDEN);
        let total = image_mlp_params(set.image, HIDDEN, CLASSES);
        rows.push(vec![
            set.name.to_string(),
            set.image.to_string(),
            thousands(inputs),
            thousands(first),
            thousands(total),
            format!("{:.2}%", 100.0 * first as f64 / total as f64),
        ]);
        let key = set
            .name
            .to_lowercase()
            .replace([' ', '-'], "_")
            .replace(['(', ')'], "");
        w.count(&format!("{key}_inputs"), inputs);
        w.count(&format!("{key}_first_layer"), first);
        w.count(&format!("{key}_total"), total);
    }
    let table = markdown_table(
        &[
            "data set",
            "image (W x H x D)",
            "inputs",
            "first layer",
            "whole network",
            "first layer share",
        ],
        &rows,
    );
    w.snippet(
        "params-table.md",
        &table,
        "IMAGE_SETS, 100 hidden units, 10 classes",
    )?;

    let mnist = image_mlp_params(Volume::square(28, 1), HIDDEN, CLASSES);
    let stl_grey = image_mlp_params(Volume::square(96, 1), HIDDEN, CLASSES);
    w.number(
        "stl_grey_over_mnist",
        format!("{:.1}", stl_grey as f64 / mnist as f64),
        stl_grey as f64 / mnist as f64,
    );
    w.count("second_layer", dense_params(HIDDEN, CLASSES));

    // First-layer parameters against image side: dense vs convolutional.
    let sides = [8u64, 16, 28, 32, 48, 64, 96, 128, 160, 192, 224, 256];
    let series = |name: &str, f: &dyn Fn(u64) -> u64| Series {
        name: name.to_string(),
        points: sides.iter().map(|&s| (s as f64, f(s) as f64)).collect(),
    };
    let conv = |channels: u64| CONV_FIELD * CONV_FIELD * channels * HIDDEN + HIDDEN;
    let chart = line_chart(
        &ChartSpec {
            title: "First-layer parameters against image size".into(),
            x_label: "image side W = H (pixels)".into(),
            y_label: "parameters".into(),
            log_x: true,
            log_y: true,
        },
        &[
            series("fully connected, colour (D = 3), 100 units", &|s| {
                dense_params(s * s * 3, HIDDEN)
            }),
            series("fully connected, grey (D = 1), 100 units", &|s| {
                dense_params(s * s, HIDDEN)
            }),
            series("convolutional, colour, 100 filters 5x5x3", &|_| conv(3)),
        ],
    )?;
    w.figure(
        "first-layer-params.svg",
        &chart,
        "sides 8..256; 100 hidden units or 100 5x5 filters",
    )?;
    w.count("conv_first_layer_colour", conv(3));
    super::shuffled_pixels::generate(w)
}
