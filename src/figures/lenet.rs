//! Figures and numbers of chapter `09-lenet`, drawn from the committed results of
//! `cnn-book train` (`book/generated/09-lenet/results.json`) and trained weights
//! (`weights/*.safetensors`). Training is not repeated here: rerun `cnn-book train` for that.

use std::path::Path;

use ndarray::{s, Array2};

use super::{markdown_table, GenResult, Writer};
use crate::checkpoint;
use crate::data::fashion_mnist::{load, locate, Split, CLASS_NAMES};
use crate::error::{Error, Result};
use crate::models::by_name;
use crate::plot::{
    line_chart_styled, shaded_matrix_labelled, ChartSpec, ChartStyle, LegendCorner, Series,
};
use crate::raster::{image_grid, Panel, Shading};
use crate::records::{read_results, Normalisation, RunRecord};
use crate::train::EpochStats;
use crate::train::{confusion_matrix, evaluate, standardise};

/// The models whose results the chapter shows, in order.
const MODELS: [&str; 2] = ["lenet", "lenet-classic"];

pub fn generate(w: &mut Writer) -> GenResult {
    let results_path = w.book_dir().join("generated/09-lenet/results.json");
    let results = read_results(&results_path)
        .map_err(|e| Error::Invalid(format!("{e}; run `cnn-book train lenet` first")))?;
    let trained: Vec<(&str, &RunRecord)> = MODELS
        .iter()
        .filter_map(|m| results.get(*m).map(|r| (*m, r)))
        .collect();
    if trained.is_empty() {
        return Err(Error::Invalid(format!(
            "{} has no trained model",
            results_path.display()
        )));
    }

    // Curves: loss and accuracy per epoch, train and test, for every trained model.
    let mut loss_series = Vec::new();
    let mut acc_series = Vec::new();
    let mut rows = Vec::new();
    for &(model, r) in &trained {
        let pick = |value: &dyn Fn(&EpochStats) -> Option<f32>| -> Result<Vec<(f64, f64)>> {
            r.history
                .iter()
                .map(|e| {
                    let v = value(e).ok_or_else(|| {
                        Error::Invalid(format!(
                            "{}: {model}, epoch {}: no test loss or accuracy",
                            results_path.display(),
                            e.epoch
                        ))
                    })?;
                    Ok((e.epoch as f64, v as f64))
                })
                .collect()
        };
        loss_series.push(Series {
            name: format!("{model}, training"),
            points: pick(&|e| Some(e.train_loss))?,
        });
        loss_series.push(Series {
            name: format!("{model}, test"),
            points: pick(&|e| e.test_loss)?,
        });
        acc_series.push(Series {
            name: format!("{model}, training"),
            points: pick(&|e| Some(e.train_accuracy))?,
        });
        acc_series.push(Series {
            name: format!("{model}, test"),
            points: pick(&|e| e.test_accuracy)?,
        });
        let accuracy = r.test_accuracy as f64;
        let key = model.replace('-', "_");
        w.number(
            &format!("{key}_accuracy"),
            format!("{:.2}%", 100.0 * accuracy),
            accuracy,
        );
        w.number(&format!("{key}_epochs"), r.epochs.to_string(), r.epochs);
        let seconds = r.seconds as f64;
        w.number(
            &format!("{key}_minutes"),
            format!("{:.0}", seconds / 60.0),
            seconds,
        );
        rows.push(vec![
            model.to_string(),
            format!("{:.2}%", 100.0 * accuracy),
            r.epochs.to_string(),
            r.train_examples.to_string(),
            r.test_examples.to_string(),
            format!("{:.0} s", seconds),
            r.seed.to_string(),
        ]);
    }
    let table = markdown_table(
        &[
            "model",
            "test accuracy",
            "epochs",
            "training images",
            "test images",
            "time",
            "seed",
        ],
        &rows,
    );
    w.snippet("results.md", &table, "results.json")?;
    let spec = |title: &str, y: &str| ChartSpec {
        title: title.to_string(),
        x_label: "epoch".into(),
        y_label: y.into(),
        log_x: false,
        log_y: false,
    };
    let style = ChartStyle {
        legend: LegendCorner::UpperRight,
        headroom: 0.5,
        ..ChartStyle::default()
    };
    w.figure(
        "loss.svg",
        &line_chart_styled(&spec("Cross-entropy loss", "loss"), &loss_series, style)?,
        "results.json",
    )?;
    let style = ChartStyle {
        legend: LegendCorner::LowerRight,
        ..ChartStyle::default()
    };
    w.figure(
        "accuracy.svg",
        &line_chart_styled(&spec("Accuracy", "fraction correct"), &acc_series, style)?,
        "results.json",
    )?;

    // The modern LeNet's learned first-layer filters, from the committed weights.
    let (_, lenet) = trained
        .iter()
        .find(|(m, _)| *m == "lenet")
        .ok_or_else(|| Error::Invalid("results.json has no run of lenet".into()))?;
    let mut model = by_name("lenet", 0)?;
    // The weights' path is recorded relative to the repository, the book's parent.
    let root = w.book_dir().parent().unwrap_or(Path::new("."));
    checkpoint::load_recorded(
        &mut model,
        &root.join(&lenet.weights),
        &lenet.weights_checksum,
    )?;
    let filters = model.layer(0).expect("a first layer").params()[0]
        .value
        .clone();
    let panels: Vec<Panel> = (0..filters.shape()[0])
        .map(|k| Panel {
            title: format!("filter {k}"),
            image: filters.slice(s![k, 0, .., ..]).to_owned(),
            shading: Shading::Signed,
        })
        .collect();
    w.figure_bytes(
        "filters.png",
        &image_grid(&panels, 6, 16)?.0,
        "weights/lenet.safetensors, first layer",
    )?;

    // Confusion matrix and mistakes on the full test set.
    let dir = locate(None)?;
    let test = load(&dir, Split::Test)?;
    let Normalisation { mean, std } = lenet.normalisation;
    let x = standardise(&test, mean, std);
    let labels: Vec<usize> = test.labels.iter().map(|&l| l as usize).collect();
    let (_, accuracy, predictions) = evaluate(&mut model, &x, &labels, 500)?;
    w.number(
        "lenet_eval_accuracy",
        format!("{:.2}%", 100.0 * accuracy),
        accuracy,
    );
    let confusion = confusion_matrix(&predictions, &labels, 10)?;
    let names: Vec<String> = (0..10).map(|c| format!("{c} {}", short(c))).collect();
    let numbers: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    let svg = shaded_matrix_labelled(
        "Modern LeNet on the 10,000 test images",
        confusion.mapv(|c| c as f32).view(),
        &names,
        &numbers,
        "true class",
        "predicted class",
    )?;
    w.figure(
        "confusion.svg",
        &svg,
        "weights/lenet.safetensors on the Fashion-MNIST test set",
    )?;
    let legend: Vec<Vec<String>> = CLASS_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| vec![i.to_string(), n.to_string()])
        .collect();
    w.snippet(
        "classes.md",
        &markdown_table(&["class", "name"], &legend),
        "CLASS_NAMES",
    )?;
    // The most confused pair of different classes.
    let mut worst = (0, 0, 0);
    for ((t, p), &c) in confusion.indexed_iter() {
        if t != p && c > worst.2 {
            worst = (t, p, c);
        }
    }
    w.number(
        "most_confused",
        format!(
            "{} taken for {} ({} times)",
            CLASS_NAMES[worst.0], CLASS_NAMES[worst.1], worst.2
        ),
        worst.2,
    );
    let shirt_row: Array2<usize> = confusion.slice(s![6..7, ..]).to_owned();
    w.number(
        "shirt_accuracy",
        format!(
            "{:.0}%",
            100.0 * shirt_row[[0, 6]] as f64 / shirt_row.sum() as f64
        ),
        shirt_row[[0, 6]],
    );

    let mistakes: Vec<Panel> = predictions
        .iter()
        .zip(&labels)
        .enumerate()
        .filter(|(_, (p, l))| p != l)
        .take(24)
        .map(|(i, (&p, &l))| Panel {
            title: format!("{} -> {}", short(l), short(p)),
            image: test.image(i),
            shading: Shading::Grey,
        })
        .collect();
    w.figure_bytes(
        "mistakes.png",
        &image_grid(&mistakes, 6, 4)?.0,
        "the first 24 misclassified test images",
    )?;
    super::lenet_seeds::generate(w)
}

fn short(class: usize) -> &'static str {
    [
        "T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
        "Boot",
    ][class]
}
