//! The figure generator: runs the library and writes every figure under
//! `book/figures/<slug>/` and every generated number under `book/generated/<slug>/`.
//!
//! Each chapter has one function here that computes what its prose quotes. Numbers go
//! three ways: `numbers.md` (one mdBook anchor per number, for `{{#include}}` in a
//! sentence), `numbers.json` (the raw values, for machines) and Markdown tables. A
//! `manifest.json` per chapter records, for each file, the command, seed and inputs that
//! made it. Chapters without training are deterministic: running the generator twice
//! gives byte-identical files, which CI checks against the committed ones.
//!
//! A diagram that belongs to one chapter lives in that chapter's module here, public so
//! that the chapter's notebook can draw it too: [`local_connectivity`] (neurons and their
//! windows), [`conv_layer`] (the convolution animation), [`conv_as_matrix`] (the matrix `C`
//! and the patch matrix). The generic charts are in [`crate::plot`] and [`crate::raster`].

pub mod architectures;
pub mod augmentation;
mod backprop;
pub mod conv_as_matrix;
pub mod conv_layer;
mod convolution;
mod fast_convolution;
mod fully_connected;
mod lenet;
pub mod lenet_seeds;
pub mod local_connectivity;
pub mod local_response_norm;
pub mod normalization;
mod parameter_sharing;
mod pooling;
pub mod resnet;
pub mod shift_invariance;
pub mod shuffled_pixels;
pub mod visualization;

use crate::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::plot::Svg;

/// What a chapter's generator can fail with.
pub type GenResult = crate::Result<()>;

/// A chapter whose figures and numbers the generator makes.
pub struct Chapter {
    /// The chapter's slug, shared by its prose, figures, numbers and notebook.
    pub slug: &'static str,
    generate: fn(&mut Writer) -> GenResult,
    /// Needs the full Fashion-MNIST installed (see `data::fashion_mnist::locate`).
    pub needs_full_data: bool,
    /// The training runs whose results the chapter draws: `cnn-book train MODEL`, with
    /// the epochs and seed recorded in the chapter's `results.json` (`figures --retrain`
    /// repeats them).
    pub runs: &'static [&'static str],
    /// Repeats the chapter's own experiments, writing their results below the book
    /// (`figures --retrain`); `None` for chapters without experiments of their own.
    pub retrain: Option<fn(&Path) -> crate::Result<()>>,
    /// The committed files the chapter's figures are drawn from, relative to the
    /// repository (the book's parent directory): results of runs and benchmarks, weights.
    pub inputs: &'static [&'static str],
}

/// Every chapter that has figures or numbers, in book order.
pub const CHAPTERS: &[Chapter] = &[
    Chapter {
        slug: "01-fully-connected",
        generate: fully_connected::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/01-fully-connected/results.json"],
        retrain: Some(shuffled_pixels::retrain),
    },
    Chapter {
        slug: "02-local-connectivity",
        generate: local_connectivity::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[],
        retrain: None,
    },
    Chapter {
        slug: "03-parameter-sharing",
        generate: parameter_sharing::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[],
        retrain: None,
    },
    Chapter {
        slug: "04-convolution",
        generate: convolution::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[],
        retrain: None,
    },
    Chapter {
        slug: "05-conv-layer",
        generate: conv_layer::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[],
        retrain: None,
    },
    Chapter {
        slug: "06-conv-as-matrix",
        generate: conv_as_matrix::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["benches/results/conv.json"],
        retrain: None,
    },
    Chapter {
        slug: "07-pooling",
        generate: pooling::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/07-pooling/results.json"],
        retrain: Some(shift_invariance::retrain),
    },
    Chapter {
        slug: "08-backprop",
        generate: backprop::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[],
        retrain: None,
    },
    Chapter {
        slug: "09-lenet",
        generate: lenet::generate,
        needs_full_data: true,
        runs: &["lenet", "lenet-classic"],
        inputs: &[
            "book/generated/09-lenet/results.json",
            "book/generated/09-lenet/seeds.json",
            "weights/lenet.safetensors",
        ],
        retrain: Some(lenet_seeds::retrain),
    },
    Chapter {
        slug: "10-normalization",
        generate: normalization::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/10-normalization/results.json"],
        retrain: Some(normalization::retrain),
    },
    Chapter {
        slug: "11-architectures",
        generate: architectures::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/11-architectures/results.json"],
        retrain: Some(architectures::retrain),
    },
    Chapter {
        slug: "12-resnet",
        generate: resnet::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/12-resnet/results.json"],
        retrain: Some(resnet::retrain),
    },
    Chapter {
        slug: "13-augmentation",
        generate: augmentation::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/13-augmentation/results.json"],
        retrain: Some(augmentation::retrain),
    },
    Chapter {
        slug: "14-visualization",
        generate: visualization::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[
            "weights/lenet.safetensors",
            "weights/resnet-fashion.safetensors",
            "book/generated/09-lenet/results.json",
            "book/generated/12-resnet/results.json",
        ],
        retrain: None,
    },
    Chapter {
        slug: "15-local-response-norm",
        generate: local_response_norm::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &["book/generated/15-local-response-norm/results.json"],
        retrain: Some(local_response_norm::retrain),
    },
    Chapter {
        slug: "16-fast-convolution",
        generate: fast_convolution::generate,
        needs_full_data: false,
        runs: &[],
        inputs: &[
            "book/generated/16-fast-convolution/bench.json",
            "book/generated/16-fast-convolution/comparison.json",
            "book/generated/16-fast-convolution/comparison-avx2.json",
            "book/generated/16-fast-convolution/bench-avx2.json",
            "book/generated/16-fast-convolution/versus-734490a.json",
        ],
        retrain: None,
    },
];

/// The chapters named by `selection` (a slug, or its number such as `2` or `02`);
/// all chapters if `selection` is empty.
pub fn select(selection: &[String]) -> crate::Result<Vec<&'static Chapter>> {
    if selection.is_empty() {
        return Ok(CHAPTERS.iter().collect());
    }
    selection
        .iter()
        .map(|name| {
            let wanted = name.trim();
            let number = wanted.parse::<u32>().ok();
            CHAPTERS
                .iter()
                .find(|c| {
                    c.slug == wanted || number.is_some_and(|n| c.slug[..2].parse::<u32>() == Ok(n))
                })
                .ok_or_else(|| {
                    let known: Vec<_> = CHAPTERS.iter().map(|c| c.slug).collect();
                    Error::Invalid(format!(
                        "no chapter '{wanted}' has figures; known: {}",
                        known.join(", ")
                    ))
                })
        })
        .collect()
}

/// Runs the generators of `chapters`, writing below `book_dir`; returns the files written.
pub fn generate(book_dir: &Path, chapters: &[&Chapter]) -> crate::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for chapter in chapters {
        let mut writer = Writer::new(book_dir, chapter.slug);
        (chapter.generate)(&mut writer).map_err(|e| match e {
            Error::Invalid(m) => Error::Invalid(format!("generating {}: {m}", chapter.slug)),
            other => other,
        })?;
        written.extend(writer.finish()?);
    }
    Ok(written)
}

#[derive(Serialize)]
struct ManifestEntry {
    file: String,
    command: String,
    seed: Option<u64>,
    inputs: String,
}

/// Collects one chapter's outputs and writes them with their manifest.
pub struct Writer {
    book_dir: PathBuf,
    slug: &'static str,
    numbers: Vec<(String, String, Value)>,
    manifest: Vec<ManifestEntry>,
    written: Vec<PathBuf>,
    seed: Option<u64>,
}

impl Writer {
    fn new(book_dir: &Path, slug: &'static str) -> Self {
        Writer {
            book_dir: book_dir.to_path_buf(),
            slug,
            numbers: Vec::new(),
            manifest: Vec::new(),
            written: Vec::new(),
            seed: None,
        }
    }

    /// The book's source directory, which the chapter writes into; inputs of the figures
    /// (committed runs, benchmark results) are found relative to it.
    pub fn book_dir(&self) -> &Path {
        &self.book_dir
    }

    fn command(&self) -> String {
        format!("cnn-book figures --chapter {}", self.slug)
    }

    fn write(&mut self, kind: &str, name: &str, contents: &[u8], inputs: &str) -> GenResult {
        let dir = self.book_dir.join(kind).join(self.slug);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, &e))?;
        let path = dir.join(name);
        crate::files::write_atomic(&path, contents)?;
        self.manifest.push(ManifestEntry {
            file: format!("{kind}/{}/{name}", self.slug),
            command: self.command(),
            seed: self.seed,
            inputs: inputs.to_string(),
        });
        self.written.push(path);
        Ok(())
    }

    /// Records `seed` in the manifest for every file written from now on: the seed of the
    /// random numbers those files depend on.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = Some(seed);
    }

    /// Writes an SVG figure to `book/figures/<slug>/<name>`.
    pub fn figure(&mut self, name: &str, svg: &Svg, inputs: &str) -> GenResult {
        self.write("figures", name, svg.as_str().as_bytes(), inputs)
    }

    /// Writes a PNG or GIF figure to `book/figures/<slug>/<name>`.
    pub fn figure_bytes(&mut self, name: &str, bytes: &[u8], inputs: &str) -> GenResult {
        self.write("figures", name, bytes, inputs)
    }

    /// Writes a Markdown snippet (a table) to `book/generated/<slug>/<name>`.
    pub fn snippet(&mut self, name: &str, markdown: &str, inputs: &str) -> GenResult {
        self.write("generated", name, markdown.as_bytes(), inputs)
    }

    /// Records a number quoted in the prose: `shown` is how the book prints it, `value`
    /// the raw value for `numbers.json`.
    pub fn number(&mut self, anchor: &str, shown: impl Into<String>, value: impl Into<Value>) {
        assert!(
            !self.numbers.iter().any(|(a, _, _)| a == anchor),
            "number '{anchor}' recorded twice in {}",
            self.slug
        );
        self.numbers
            .push((anchor.to_string(), shown.into(), value.into()));
    }

    /// Records where a chapter's committed runs were made and how long they took: the
    /// numbers `cpu` and `runs_minutes` that every chapter with experiments quotes.
    pub fn run_record(&mut self, cpu: &str, seconds: f32) {
        self.number("cpu", cpu, cpu);
        self.number("runs_minutes", format!("{:.0}", seconds / 60.0), seconds);
    }

    /// Records an integer count, printed with thousands separators.
    pub fn count(&mut self, anchor: &str, value: u64) {
        self.number(anchor, crate::format::thousands(value), value);
    }

    fn finish(mut self) -> crate::Result<Vec<PathBuf>> {
        if !self.numbers.is_empty() {
            let mut md = String::from(
                "<!-- Generated by `cnn-book figures`; do not edit. One anchor per number. -->\n",
            );
            let mut json = serde_json::Map::new();
            for (anchor, shown, value) in &self.numbers {
                md.push_str(&format!(
                    "ANCHOR: {anchor}\n{shown}\nANCHOR_END: {anchor}\n"
                ));
                json.insert(anchor.clone(), value.clone());
            }
            let json = serde_json::to_string_pretty(&json)? + "\n";
            let inputs = "the chapter's library calls";
            self.write("generated", "numbers.md", md.as_bytes(), inputs)?;
            self.write("generated", "numbers.json", json.as_bytes(), inputs)?;
        }
        let manifest = serde_json::to_string_pretty(&self.manifest)? + "\n";
        let dir = self.book_dir.join("generated").join(self.slug);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, &e))?;
        let path = dir.join("manifest.json");
        crate::files::write_atomic(&path, manifest.as_bytes())?;
        self.written.push(path);
        Ok(self.written)
    }
}

/// The full Fashion-MNIST (see `data::fashion_mnist::locate`), both sets standardised with
/// the training set's pixel statistics: what every chapter's experiments train on.
pub(crate) struct FullData {
    pub train_x: ndarray::Array4<f32>,
    pub train_y: Vec<usize>,
    pub test_x: ndarray::Array4<f32>,
    pub test_y: Vec<usize>,
    pub normalisation: crate::records::Normalisation,
}

pub(crate) fn full_data() -> crate::Result<FullData> {
    use crate::data::fashion_mnist::{load, locate, Split};
    let dir = locate(None)?;
    let train = load(&dir, Split::Train)?;
    let test = load(&dir, Split::Test)?;
    let (mean, std) = crate::train::pixel_statistics(&train);
    let labels = |d: &crate::data::fashion_mnist::Dataset| -> Vec<usize> {
        d.labels.iter().map(|&l| l as usize).collect()
    };
    Ok(FullData {
        train_x: crate::train::standardise(&train, mean, std),
        train_y: labels(&train),
        test_x: crate::train::standardise(&test, mean, std),
        test_y: labels(&test),
        normalisation: crate::records::Normalisation { mean, std },
    })
}

/// One training run of a chapter's experiment: `config`'s SGD with momentum and step
/// schedule on `train`, with `test` (and `validation`, if given) evaluated after every
/// epoch and a progress bar. Returns the epochs' statistics and the last test accuracy.
pub(crate) fn experiment_run(
    model: &mut dyn crate::layer::Layer,
    train: crate::train::Examples,
    test: crate::train::Examples,
    validation: Option<crate::train::Examples>,
    config: &crate::train::TrainConfig,
) -> crate::Result<(Vec<crate::train::EpochStats>, f32)> {
    let mut training = config.training();
    training.test = Some(test);
    training.validation = validation;
    training.show_progress = true;
    let history = crate::train::train(model, &mut config.optimizer()?, train, &training, |_| {})?;
    let accuracy = history.last().and_then(|e| e.test_accuracy).unwrap_or(0.0);
    Ok((history, accuracy))
}

/// A fraction as a percentage with two decimals: 0.90345 -> "90.35%".
pub(crate) fn percent(fraction: f32) -> String {
    format!("{:.2}%", 100.0 * fraction)
}

/// Writes a chapter's `results` as pretty JSON to `relative` below `book`.
pub(crate) fn write_results(book: &Path, relative: &str, results: &impl Serialize) -> GenResult {
    let path = book.join(relative);
    fs::create_dir_all(path.parent().expect("a directory")).map_err(|e| Error::io(&path, &e))?;
    let text = serde_json::to_string_pretty(results)? + "\n";
    crate::files::write_atomic(&path, text.as_bytes())
}

/// Reads a chapter's results from `relative` below `book`; a missing file says which
/// command makes it.
pub(crate) fn read_results<T: serde::de::DeserializeOwned>(
    book: &Path,
    relative: &str,
    chapter: u32,
) -> crate::Result<T> {
    let path = book.join(relative);
    let text = fs::read_to_string(&path).map_err(|e| {
        Error::Invalid(format!(
            "{}: {e}; run `cnn-book figures --chapter {chapter} --retrain` first",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

/// A Markdown table from a header and rows.
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut md = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    md
}
