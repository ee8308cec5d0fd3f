//! Figures and numbers of chapter `14-visualization`: every method of
//! [`crate::visualize`] on the committed LeNet (chapter 9) and small ResNet (chapter 12),
//! on the test images embedded in the library. Nothing is trained; the networks run on
//! their reference loops, so the figures do not depend on the vector instructions of the
//! machine that draws them.

use std::path::Path;

use ndarray::{s, Array2, Array3, Axis};

use super::{markdown_table, GenResult, Writer};
use crate::data::fashion_mnist::{sample, CLASS_NAMES};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::layer::{Implementation, Layer, Param};
use crate::layers::{Flatten, Linear, Relu, Sequential};
use crate::model::set_implementation;
use crate::plot::{line_chart_styled, ChartSpec, ChartStyle, LegendCorner, Series};
use crate::raster::{image_grid, Panel, Shading};
use crate::visualize::deconvnet::reconstruct;
use crate::visualize::features::{conv_at, feature_maps, filters};
use crate::visualize::guided::three_rules;
use crate::visualize::maximize::{class_model, maximize, Ascent, Maximized};
use crate::visualize::occlusion::{occlusion, strongest_map, Occluder};
use crate::visualize::saliency::saliency;
use crate::visualize::top::{layer_outputs, receptive_patch, top_in_maps};
use crate::visualize::{Trained, Unit};

// ANCHOR: config
/// The classes whose first test image the figures show.
pub const SHOWN_CLASSES: [usize; 4] = [0, 1, 7, 9];
/// LeNet's layers the chapter looks at, by index: the first convolution, the second
/// convolution, its ReLU, the last layer (class scores).
pub const CONV1: usize = 0;
pub const CONV2: usize = 3;
pub const RELU2: usize = 4;
pub const SCORES: usize = 11;
/// The feature maps after the second ReLU whose top images and reconstructions are shown.
pub const TOP_CHANNELS: [usize; 4] = [0, 5, 10, 15];
/// The first-layer ascent: the closed form is the filter over `2 lambda`.
pub const FIRST_ASCENT: Ascent = Ascent {
    steps: 30,
    rate: 0.5,
    l2: 0.5,
};
/// The ascent for units of the second convolution and for class models.
pub const DEEP_ASCENT: Ascent = Ascent {
    steps: 50,
    rate: 0.4,
    l2: 0.5,
};
/// The classes whose first test image is occluded: three that are easily confused.
pub const OCCLUDED_CLASSES: [usize; 3] = [0, 2, 6];
/// Zeiler and Fergus's grey square: the mean pixel (0 after standardisation).
pub const OCCLUDER: Occluder = Occluder {
    size: 8,
    stride: 3,
    fill: 0.0,
};
// ANCHOR_END: config

const INPUTS: &str =
    "weights/lenet.safetensors, weights/resnet-fashion.safetensors, the embedded test images";

/// The committed networks, on their reference loops.
fn networks(book: &Path) -> Result<(Trained, Trained)> {
    let root = book.parent().unwrap_or(Path::new("."));
    let mut lenet = Trained::lenet(root)?;
    let mut resnet = Trained::resnet(root)?;
    set_implementation(&mut lenet.model, Implementation::Reference);
    set_implementation(&mut resnet.model, Implementation::Reference);
    Ok((lenet, resnet))
}

/// The index of the first embedded test image of each class in `classes`.
pub fn first_of(labels: &[u8], classes: &[usize]) -> Result<Vec<usize>> {
    classes
        .iter()
        .map(|&c| {
            labels
                .iter()
                .position(|&l| l as usize == c)
                .ok_or_else(|| Error::Invalid(format!("no image of class {c} in the sample")))
        })
        .collect()
}

fn panel(title: impl Into<String>, image: Array2<f32>, shading: Shading) -> Panel {
    Panel {
        title: title.into(),
        image,
        shading,
    }
}

fn plane(image: &Array3<f32>) -> Array2<f32> {
    image.index_axis(Axis(0), 0).to_owned()
}

/// The tiny network of the ReLU-rule table: weights chosen so that its ReLU sees inputs
/// and backward signals of both signs.
pub fn tiny_network() -> Sequential {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut first = Linear::new(2, 3, Init::Xavier, &mut rng);
    first.weight = Param::new(
        "weight",
        ndarray::array![[1.0, 0.0], [0.0, -1.0], [1.0, 1.0]].into_dyn(),
    );
    let mut second = Linear::new(3, 1, Init::Xavier, &mut rng);
    second.weight = Param::new("weight", ndarray::array![[-1.0, 2.0, 3.0]].into_dyn());
    Sequential::new()
        .add(Flatten::new())
        .add(first)
        .add(Relu::new())
        .add(second)
}

/// The table of the three ReLU rules, from the tiny network run forward and back.
fn relu_rule_table(w: &mut Writer) -> GenResult {
    let mut net = tiny_network();
    let image = Array3::from_shape_vec((1, 1, 2), vec![1.0, 1.0]).expect("2 values");
    let outputs = crate::visualize::forward_to(&mut net, &crate::visualize::batch(&image), 3)?;
    let pre = outputs[1].clone(); // the ReLU's input
    let signal = net
        .layer(3)
        .and_then(|l| l.params().first().map(|p| p.value.clone()))
        .ok_or_else(|| Error::Invalid("tiny network without weights".into()))?; // W2 (1, 3)
    let fmt = |v: f32| format!("{v}");
    let mut rows = Vec::new();
    let rules = three_rules(&mut net, &image, &Unit::output(3, 0))?;
    let mut passed: [Vec<f32>; 3] = Default::default();
    for i in 0..3 {
        let (x, g) = (pre[[0, i]], signal[[0, i]]);
        let through = [
            if x > 0.0 { g } else { 0.0 },
            if g > 0.0 { g } else { 0.0 },
            if x > 0.0 && g > 0.0 { g } else { 0.0 },
        ];
        for (k, t) in through.iter().enumerate() {
            passed[k].push(*t);
        }
        let mut row = vec![format!("ReLU {}", i + 1), fmt(x), fmt(g)];
        row.extend(through.iter().map(|&t| fmt(t)));
        rows.push(row);
    }
    let at_input = |a: &Array3<f32>| format!("({}, {})", a[[0, 0, 0]], a[[0, 0, 1]]);
    rows.push(vec![
        "at the input".into(),
        String::new(),
        String::new(),
        at_input(&rules.backprop),
        at_input(&rules.deconvnet),
        at_input(&rules.guided),
    ]);
    w.snippet(
        "relu-rules.md",
        &markdown_table(
            &[
                "",
                "forward input",
                "signal arriving",
                "backprop",
                "DeconvNet",
                "guided",
            ],
            &rows,
        ),
        "tiny_network()",
    )
}

/// Saves `maximized` images and returns the line of activations for a chart.
fn curve(name: &str, found: &Maximized) -> Series {
    Series {
        name: name.into(),
        points: found
            .activations
            .iter()
            .enumerate()
            .map(|(i, &a)| (i as f64, a as f64))
            .collect(),
    }
}

pub fn generate(w: &mut Writer) -> GenResult {
    let (mut lenet, mut resnet) = networks(w.book_dir())?;
    let data = sample();
    let x_lenet = lenet.standardise(&data);
    let x_resnet = resnet.standardise(&data);
    // The ascents start from the mean image (Simonyan et al.'s zero image, since their
    // inputs had the mean image subtracted): from the zero image, every first-layer unit
    // of LeNet is off and no gradient gets through.
    let mean_lenet = x_lenet.mean_axis(Axis(0)).expect("images");
    let labels: Vec<usize> = data.labels.iter().map(|&l| l as usize).collect();
    let shown = first_of(&data.labels, &SHOWN_CLASSES)?;
    let name = |c: usize| CLASS_NAMES[c];
    w.count("sample_images", data.len() as u64);
    // The sizes the prose names, from the networks themselves.
    let shape_of = |t: &Trained, layer: usize| -> Result<Vec<usize>> {
        let mut shape = vec![1, 1, 28, 28];
        for i in 0..=layer {
            shape = t.model.layer(i).expect("a layer").output_shape(&shape)?;
        }
        Ok(shape)
    };
    let conv2 = shape_of(&lenet, CONV2)?;
    w.count("conv2_maps", conv2[1] as u64);
    w.count("conv2_size", conv2[2] as u64);
    let first = shape_of(&resnet, 2)?; // after the stem's ReLU
    w.count(
        "resnet_stem_values",
        first[1..].iter().product::<usize>() as u64,
    );
    w.count("resnet_filters", first[1] as u64);
    w.count("top_k", 9);
    w.count("top_maps", TOP_CHANNELS.len() as u64);
    w.count("classes", CLASS_NAMES.len() as u64);
    relu_rule_table(w)?;

    // 1. Filters and feature maps.
    // Each filter's weights on the one input channel, numbered.
    let filter_panels = |conv: &crate::layers::Conv2d| -> Vec<Panel> {
        filters(conv)
            .into_iter()
            .enumerate()
            .map(|(k, f)| panel(format!("{k}"), f[0].clone(), Shading::Signed))
            .collect()
    };
    let conv1 = conv_at(&lenet.model, CONV1)?;
    let grid = image_grid(&filter_panels(conv1), 6, 16)?;
    w.figure_bytes("lenet-filters.png", &grid.0, INPUTS)?;
    // On the zero image every first-layer unit computes its bias.
    let biases = &conv1
        .bias
        .as_ref()
        .expect("LeNet's convolutions have biases")
        .value;
    let negative = biases.iter().filter(|&&b| b < 0.0).count();
    let largest = biases.iter().fold(f32::NEG_INFINITY, |m, &b| m.max(b));
    w.count("conv1_filters", biases.len() as u64);
    w.count("conv1_negative_biases", negative as u64);
    w.number("conv1_largest_bias", format!("{largest:.2}"), largest);
    let grid = image_grid(&filter_panels(conv_at(&resnet.model, 0)?), 8, 24)?;
    w.figure_bytes("resnet-filters.png", &grid.0, INPUTS)?;

    let boot = shown[3];
    let image = x_lenet.index_axis(Axis(0), boot).to_owned();
    let maps = feature_maps(&mut lenet.model, &image)?;
    let of = |layer: usize| {
        maps.iter()
            .find(|m| m.layer == layer)
            .ok_or_else(|| Error::Invalid(format!("no feature maps at layer {layer}")))
    };
    let mut panels = vec![panel("input", plane(&image), Shading::Grey)];
    for (k, m) in of(1)?.maps.outer_iter().enumerate() {
        panels.push(panel(format!("map {k}"), m.to_owned(), Shading::Grey));
    }
    w.figure_bytes("feature-maps-1.png", &image_grid(&panels, 7, 4)?.0, INPUTS)?;
    let panels: Vec<Panel> = of(RELU2)?
        .maps
        .outer_iter()
        .enumerate()
        .map(|(k, m)| panel(format!("map {k}"), m.to_owned(), Shading::Grey))
        .collect();
    w.figure_bytes("feature-maps-2.png", &image_grid(&panels, 8, 8)?.0, INPUTS)?;
    w.number("feature_image", boot.to_string(), boot);

    // 2. Activation maximization: the first layer against its filters, then conv2.
    let mut panels = Vec::new();
    let mut worst = 0.0f32;
    let mut series = Vec::new();
    let lambda = FIRST_ASCENT.l2;
    for k in 0..6 {
        let found = maximize(
            &mut lenet.model,
            &Unit::at(CONV1, k, 14, 14),
            &Array3::zeros((1, 28, 28)),
            FIRST_ASCENT,
        )?;
        let filter = filters(conv_at(&lenet.model, CONV1)?)[k][0].clone();
        let patch = found.image.slice(s![0, 12..17, 12..17]).to_owned();
        worst = worst.max(
            (&patch - &(&filter / (2.0 * lambda)))
                .iter()
                .fold(0.0f32, |m, v| m.max(v.abs())),
        );
        panels.push(panel(format!("filter {k}"), filter, Shading::Signed));
        panels.push(panel(
            format!("ascent {k}"),
            found.image.slice(s![0, 8..21, 8..21]).to_owned(),
            Shading::Signed,
        ));
    }
    w.figure_bytes("maximize-conv1.png", &image_grid(&panels, 6, 12)?.0, INPUTS)?;
    // Printed rounded up, so that "at most" stays true.
    let shown_error = format!("{:.1e}", worst);
    let shown_error = if shown_error.parse::<f32>().unwrap_or(f32::INFINITY) < worst {
        format!("{:.1e}", worst * 1.05)
    } else {
        shown_error
    };
    w.number("first_layer_error", shown_error, worst);
    w.number("first_lambda", format!("{lambda}"), lambda);
    w.count("first_steps", FIRST_ASCENT.steps as u64);
    w.number(
        "first_rate",
        format!("{}", FIRST_ASCENT.rate),
        FIRST_ASCENT.rate,
    );

    let mut panels = Vec::new();
    for k in 0..16 {
        let found = maximize(
            &mut lenet.model,
            &Unit::at(CONV2, k, 5, 5),
            &mean_lenet,
            DEEP_ASCENT,
        )?;
        if k < 3 {
            series.push(curve(&format!("conv2 unit {k}"), &found));
        }
        panels.push(panel(
            format!("unit {k}"),
            found.image.slice(s![0, 8..22, 8..22]).to_owned(),
            Shading::Signed,
        ));
    }
    w.figure_bytes("maximize-conv2.png", &image_grid(&panels, 8, 8)?.0, INPUTS)?;
    let (rows, cols) = receptive_patch(&lenet.model, CONV2, (5, 5), (28, 28))?;
    w.number(
        "conv2_field",
        format!(
            "rows {}-{} and columns {}-{}",
            rows.start,
            rows.end - 1,
            cols.start,
            cols.end - 1
        ),
        rows.len(),
    );
    w.count("deep_steps", DEEP_ASCENT.steps as u64);
    w.number(
        "deep_rate",
        format!("{}", DEEP_ASCENT.rate),
        DEEP_ASCENT.rate,
    );
    w.number("deep_lambda", format!("{}", DEEP_ASCENT.l2), DEEP_ASCENT.l2);

    // 3. Class models, one per class (LeNet's: the ResNet's take minutes on the reference
    // loops; the notebook draws them).
    let mut table = Vec::new();
    let mut panels = Vec::new();
    let mut won = 0;
    for class in 0..10 {
        let found = class_model(&mut lenet.model, class, &mean_lenet, DEEP_ASCENT)?;
        let scores = lenet.model.forward(
            &crate::visualize::batch(&found.image),
            crate::layer::Mode::Eval,
        )?;
        let scores = scores
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|_| Error::Invalid("no class scores".into()))?;
        let p = crate::loss::softmax(&scores.to_owned());
        if crate::loss::argmax_rows(&p)[0] == class {
            won += 1;
        }
        if class < 3 {
            series.push(curve(&format!("score of {}", name(class)), &found));
        }
        table.push((class, p[[0, class]]));
        panels.push(panel(name(class), plane(&found.image), Shading::Signed));
    }
    w.figure_bytes("class-models.png", &image_grid(&panels, 5, 4)?.0, INPUTS)?;
    w.count("class_models_won", won);
    let lowest = table.iter().map(|r| r.1).fold(f32::INFINITY, f32::min);
    // Rounded down, so that "at least" stays true.
    let floor = (lowest * 1000.0).floor() / 1000.0;
    w.number("class_model_lowest", format!("{floor:.3}"), lowest);
    let style = ChartStyle {
        legend: LegendCorner::LowerRight,
        ..ChartStyle::default()
    };
    let spec = ChartSpec {
        title: "Gradient ascent on the input (LeNet)".into(),
        x_label: "step".into(),
        y_label: "unit's value".into(),
        log_x: false,
        log_y: false,
    };
    w.figure(
        "ascent.svg",
        &line_chart_styled(&spec, &series, style)?,
        INPUTS,
    )?;

    // 4. Saliency maps.
    let mut panels = Vec::new();
    for &n in &shown {
        panels.push(panel(
            name(labels[n]),
            plane(&x_lenet.index_axis(Axis(0), n).to_owned()),
            Shading::Grey,
        ));
    }
    for t in [&mut lenet, &mut resnet] {
        let x = if t.name == "LeNet" {
            &x_lenet
        } else {
            &x_resnet
        };
        for &n in &shown {
            let image = x.index_axis(Axis(0), n).to_owned();
            let map = saliency(&mut t.model, &image, labels[n])?;
            panels.push(panel(t.name, map, Shading::Grey));
        }
    }
    w.figure_bytes(
        "saliency.png",
        &image_grid(&panels, shown.len(), 4)?.0,
        INPUTS,
    )?;

    // 5. Top activations and 6. their DeconvNet reconstructions.
    let mut tops = Vec::new();
    let mut recon = Vec::new();
    let maps = layer_outputs(&mut lenet.model, x_lenet.view(), RELU2, 100)?;
    for &channel in &TOP_CHANNELS {
        let hits = top_in_maps(&lenet.model, maps.view(), RELU2, channel, 9, (28, 28))?;
        for (i, hit) in hits.iter().enumerate() {
            let image = x_lenet.index_axis(Axis(0), hit.image).to_owned();
            let cut = |a: &Array3<f32>| {
                a.slice(s![0, hit.rows.clone(), hit.columns.clone()])
                    .to_owned()
            };
            let title = if i == 0 {
                format!("map {channel}")
            } else {
                String::new()
            };
            tops.push(panel(title.clone(), cut(&image), Shading::Grey));
            let r = reconstruct(
                &mut lenet.model,
                &image,
                &Unit::at(RELU2, channel, hit.row, hit.column),
            )?;
            recon.push(panel(title, cut(&r), Shading::Signed));
        }
    }
    w.figure_bytes("top9.png", &image_grid(&tops, 9, 6)?.0, INPUTS)?;
    w.figure_bytes("deconvnet.png", &image_grid(&recon, 9, 6)?.0, INPUTS)?;
    let (rows, cols) = receptive_patch(&lenet.model, RELU2, (0, 0), (28, 28))?;
    let full = receptive_patch(&lenet.model, RELU2, (5, 5), (28, 28))?;
    w.count("relu2_field", full.0.len() as u64);
    w.number(
        "corner_field",
        format!("{} x {}", rows.len(), cols.len()),
        rows.len(),
    );

    // 7. Backprop, DeconvNet and guided backprop from the class score.
    let mut panels = Vec::new();
    for t in [&mut lenet, &mut resnet] {
        let x = if t.name == "LeNet" {
            &x_lenet
        } else {
            &x_resnet
        };
        let last = t.model.len() - 1;
        for &n in &shown[..3] {
            let image = x.index_axis(Axis(0), n).to_owned();
            let three = three_rules(&mut t.model, &image, &Unit::output(last, labels[n]))?;
            panels.push(panel(
                format!("{} {}", t.name, name(labels[n])),
                plane(&image),
                Shading::Grey,
            ));
            panels.push(panel("backprop", plane(&three.backprop), Shading::Signed));
            panels.push(panel("DeconvNet", plane(&three.deconvnet), Shading::Signed));
            panels.push(panel("guided", plane(&three.guided), Shading::Signed));
        }
    }
    w.figure_bytes("relu-rules.png", &image_grid(&panels, 4, 4)?.0, INPUTS)?;

    // 8. Occlusion.
    let mut panels = Vec::new();
    let mut rows_md = Vec::new();
    for n in first_of(&data.labels, &OCCLUDED_CLASSES)? {
        let class = labels[n];
        let image = x_lenet.index_axis(Axis(0), n).to_owned();
        let map = strongest_map(&mut lenet.model, &image, RELU2)?;
        let found = occlusion(
            &mut lenet.model,
            &image,
            class,
            OCCLUDER,
            Some((RELU2, map)),
            50,
        )?;
        let image_r = x_resnet.index_axis(Axis(0), n).to_owned();
        let found_r = occlusion(&mut resnet.model, &image_r, class, OCCLUDER, None, 50)?;
        panels.push(panel(name(class), plane(&image), Shading::Grey));
        panels.push(panel(
            "LeNet p",
            found.probability.clone(),
            Shading::Range(0.0, 1.0),
        ));
        panels.push(panel(
            "ResNet p",
            found_r.probability.clone(),
            Shading::Range(0.0, 1.0),
        ));
        let (activity, _) = found.feature.clone().expect("asked for");
        panels.push(panel(format!("map {map}"), activity, Shading::Grey));
        let low = |o: &crate::visualize::occlusion::Occlusion| {
            o.probability.iter().fold(f32::INFINITY, |m, &v| m.min(v))
        };
        let changed = |o: &crate::visualize::occlusion::Occlusion| {
            o.predicted.iter().filter(|&&p| p != class).count()
        };
        rows_md.push(vec![
            name(class).to_string(),
            format!("{:.3}", found.base),
            format!("{:.3}", low(&found)),
            changed(&found).to_string(),
            format!("{:.3}", found_r.base),
            format!("{:.3}", low(&found_r)),
            changed(&found_r).to_string(),
        ]);
    }
    w.figure_bytes("occlusion.png", &image_grid(&panels, 4, 4)?.0, INPUTS)?;
    let positions = OCCLUDER.positions(28)?;
    w.count("occlusion_positions", (positions * positions) as u64);
    w.count("occluder_size", OCCLUDER.size as u64);
    w.count("occluder_stride", OCCLUDER.stride as u64);
    w.snippet(
        "occlusion.md",
        &markdown_table(
            &[
                "image",
                "LeNet p",
                "LeNet lowest p",
                "LeNet positions misclassified",
                "ResNet p",
                "ResNet lowest p",
                "ResNet positions misclassified",
            ],
            &rows_md,
        ),
        INPUTS,
    )?;
    Ok(())
}
