//! The `cnn-book` command line: regenerate the book's figures and numbers.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
cnn-book: the command-line companion of the cnn-book course

USAGE:
    cnn-book figures [--chapter SLUG|NUMBER]... [--book DIR] [--retrain]
    cnn-book train MODEL [--epochs N] [--data DIR] [--seed S] [--lr X] [--batch B]
                         [--limit N] [--out DIR] [--weights DIR] [--threads T]
    cnn-book summary NETWORK [--depth D]
    cnn-book chapters
    cnn-book help

COMMANDS:
    figures     Regenerate figures (book/figures/<slug>/) and generated numbers
                (book/generated/<slug>/) of every chapter, or of the chapters named
                with --chapter (e.g. --chapter 2 or --chapter 02-local-connectivity).
                Chapters 1, 7, 9 to 13 and 15 draw from committed training results;
                with --retrain they first repeat their runs with the recorded seeds
                (on two cores: chapters 1 and 7 two minutes each, 13 and 15 five,
                9, 10 and 11 eight or nine, 12 a quarter of an hour).
    train       Train MODEL (lenet, lenet-classic or resnet-small) on Fashion-MNIST, found in --data DIR,
                else $FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist. Writes
                the run's results into OUT/results.json (default book/generated/09-lenet)
                and the weights to WEIGHTS/MODEL.safetensors (default weights).
                --limit N trains on the first N training images only (a quick try).
                --threads T runs on T threads (default: one per core); the results do
                not depend on T.
    summary     Print a table of NETWORK's layers with their output shapes, parameters and
                multiply-accumulates, down to D levels of nesting (default 3), and the
                totals. NETWORK is one of: lenet, alexnet, alexnet-paper, zfnet, vgg16,
                googlenet, resnet18, resnet34, resnet50, resnet152, resnet-small,
                resnet-fashion, conv-pool-fc, all-conv (chapters 9 to 12).
    chapters    List the chapters that have figures or numbers.

OPTIONS:
    --book DIR  The book's source directory (default: book)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    // `--help` anywhere (`cnn-book train --help`, `cnn-book train lenet -h`) asks for the
    // usage, not for a model called "--help".
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(());
    };
    match command.as_str() {
        "figures" => figures(rest),
        "train" => train(rest),
        "summary" => summary(rest),
        "chapters" => {
            for chapter in cnn_book::figures::CHAPTERS {
                println!("{}", chapter.slug);
            }
            Ok(())
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    }
}

fn figures(args: &[String]) -> Result<(), String> {
    let mut selection = Vec::new();
    let mut book = PathBuf::from("book");
    let mut retrain = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "--chapter" | "-c" => selection.push(value(arg)?),
            "--book" => book = PathBuf::from(value(arg)?),
            "--retrain" => retrain = true,
            other => return Err(format!("unknown option '{other}' for 'figures'\n\n{USAGE}")),
        }
    }
    if !book.join("SUMMARY.md").is_file() {
        return Err(format!(
            "{} does not look like the book's source (no SUMMARY.md); run from the repository root or pass --book DIR",
            book.display()
        ));
    }
    let chapters = cnn_book::figures::select(&selection).map_err(|e| e.to_string())?;
    if retrain {
        // Repeat each chapter's committed training runs, with their recorded epochs and
        // seeds, into the chapter's results.
        for chapter in &chapters {
            if let Some(retrain) = chapter.retrain {
                println!("repeating the experiments of {}", chapter.slug);
                retrain(&book).map_err(|e| e.to_string())?;
            }
        }
        for chapter in chapters.iter().filter(|c| !c.runs.is_empty()) {
            let out = book.join("generated").join(chapter.slug);
            let results = cnn_book::records::read_results_or_empty(&out.join("results.json"))
                .map_err(|e| e.to_string())?;
            for model in chapter.runs {
                let (epochs, seed) = results.get(*model).map_or((10, 9), |r| (r.epochs, r.seed));
                println!("retraining {model}: {epochs} epochs, seed {seed}");
                train(&[
                    model.to_string(),
                    "--epochs".into(),
                    epochs.to_string(),
                    "--seed".into(),
                    seed.to_string(),
                    "--out".into(),
                    out.display().to_string(),
                ])?;
            }
        }
    }
    for chapter in &chapters {
        println!("generating {}", chapter.slug);
    }
    let written = cnn_book::figures::generate(&book, &chapters).map_err(|e| e.to_string())?;
    println!("wrote {} files under {}", written.len(), book.display());
    Ok(())
}

fn summary(args: &[String]) -> Result<(), String> {
    let Some((name, rest)) = args.split_first() else {
        return Err(format!(
            "summary needs a network: one of {}\n\n{USAGE}",
            cnn_book::architectures::NAMES.join(", ")
        ));
    };
    let mut depth = 3;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--depth" => {
                let value = it.next().ok_or("--depth needs a value")?;
                depth = value
                    .parse()
                    .map_err(|_| format!("--depth takes a whole number, got '{value}'"))?;
            }
            other => return Err(format!("unknown option '{other}' for 'summary'\n\n{USAGE}")),
        }
    }
    let (net, input) = cnn_book::architectures::by_name(name, 0).map_err(|e| e.to_string())?;
    let s = cnn_book::model::summary(&net, &input, depth).map_err(|e| e.to_string())?;
    println!("{s}");
    Ok(())
}

/// The most threads `--threads` accepts per core: more only wait for each other.
const MAX_THREADS_PER_CORE: usize = 4;

fn train(args: &[String]) -> Result<(), String> {
    use cnn_book::data::fashion_mnist::{load, locate, Split};
    use cnn_book::records::{
        cpu_description, encode_results, read_results_or_empty, Normalisation, RunRecord,
    };
    use cnn_book::train::{pixel_statistics, standardise, train, Examples, TrainConfig};
    let Some((model_name, rest)) = args.split_first() else {
        return Err(format!("train needs a model name\n\n{USAGE}"));
    };
    let mut config = TrainConfig::default();
    let (mut data, mut out, mut weights, mut limit) = (
        None,
        PathBuf::from("book/generated/09-lenet"),
        PathBuf::from("weights"),
        None,
    );
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = |what: &str| format!("{arg} takes {what}, got '{value}'");
        match arg.as_str() {
            "--epochs" => config.epochs = value.parse().map_err(|_| number("a whole number"))?,
            "--seed" => config.seed = value.parse().map_err(|_| number("a whole number"))?,
            "--lr" => config.learning_rate = value.parse().map_err(|_| number("a number"))?,
            "--batch" => config.batch_size = value.parse().map_err(|_| number("a whole number"))?,
            "--limit" => {
                limit = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| number("a whole number"))?,
                )
            }
            "--data" => data = Some(PathBuf::from(value)),
            "--out" => out = PathBuf::from(value),
            "--weights" => weights = PathBuf::from(value),
            "--threads" => {
                let threads: usize = value.parse().map_err(|_| number("a whole number"))?;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let most = MAX_THREADS_PER_CORE * cores;
                if threads == 0 || threads > most {
                    return Err(format!(
                        "--threads must be between 1 and {most} ({MAX_THREADS_PER_CORE} per core \
                         on this machine's {cores}), got {threads}"
                    ));
                }
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build_global()
                    .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
            }
            other => return Err(format!("unknown option '{other}' for 'train'\n\n{USAGE}")),
        }
    }
    // Everything that can be checked before the data is loaded and the model trained: the
    // settings, and the results file that the run will add to (a damaged one is an error
    // now, not after the training, and is never overwritten).
    let err = |e: cnn_book::Error| e.to_string();
    config.optimizer().map_err(err)?;
    if config.epochs == 0 || config.batch_size == 0 {
        return Err(format!(
            "--epochs and --batch must be at least 1, got {} and {}",
            config.epochs, config.batch_size
        ));
    }
    if limit == Some(0) {
        return Err("--limit 0 leaves nothing to train on: give at least 1 image".into());
    }
    let results_file = out.join("results.json");
    read_results_or_empty(&results_file).map_err(err)?;
    let mut model =
        cnn_book::models::by_name(model_name, config.seed).map_err(|e| e.to_string())?;
    let dir = locate(data.as_deref()).map_err(|e| e.to_string())?;
    println!("loading Fashion-MNIST from {}", dir.display());
    let mut train_set = load(&dir, Split::Train).map_err(|e| e.to_string())?;
    let test_set = load(&dir, Split::Test).map_err(|e| e.to_string())?;
    if let Some(n) = limit {
        let n = n.min(train_set.len());
        train_set.images = train_set.images.slice(ndarray::s![..n, .., ..]).to_owned();
        train_set.labels.truncate(n);
    }
    let (mean, std) = pixel_statistics(&train_set);
    if !(std > 0.0 && std.is_finite()) {
        return Err(format!(
            "the training images' pixels have standard deviation {std}: standardising \
             would divide by it (are all the images one colour?)"
        ));
    }
    let train_x = standardise(&train_set, mean, std);
    let test_x = standardise(&test_set, mean, std);
    let train_y: Vec<usize> = train_set.labels.iter().map(|&l| l as usize).collect();
    let test_y: Vec<usize> = test_set.labels.iter().map(|&l| l as usize).collect();
    println!(
        "training {model_name} on {} images, testing on {}: {config:?}",
        train_y.len(),
        test_y.len()
    );
    let started = std::time::Instant::now();
    let report = |s: &cnn_book::train::EpochStats| {
        println!(
            "epoch {:>2}: lr {:.4}, train loss {:.4}, train accuracy {:.2}%, test accuracy {:.2}%, {:.0} s",
            s.epoch,
            s.learning_rate,
            s.train_loss,
            100.0 * s.train_accuracy,
            100.0 * s.test_accuracy.unwrap_or(f32::NAN),
            s.seconds
        )
    };
    let mut optimizer = config.optimizer().map_err(err)?;
    let mut training = config.training();
    training.test = Some(Examples::new(&test_x, &test_y).map_err(err)?);
    training.show_progress = true;
    let history = train(
        &mut model,
        &mut optimizer,
        Examples::new(&train_x, &train_y).map_err(err)?,
        &training,
        report,
    )
    .map_err(err)?;
    let seconds = started.elapsed().as_secs_f32();
    let last = history.last().expect("at least one epoch");
    let test_accuracy = last.test_accuracy.expect("a test set was given");
    println!(
        "{model_name}: test accuracy {:.2}% after {} epochs, {seconds:.0} s",
        100.0 * test_accuracy,
        history.len()
    );

    std::fs::create_dir_all(&weights)
        .map_err(|e| format!("creating {}: {e}", weights.display()))?;
    let weights_file = weights.join(format!("{model_name}.safetensors"));
    let weights_bytes = cnn_book::checkpoint::encode(&cnn_book::model::state_dict(&model));
    let weights_checksum = cnn_book::checkpoint::checksum(&weights_bytes);
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    // Read again: another run may have added its record meanwhile.
    let mut results = read_results_or_empty(&results_file).map_err(err)?;
    let record = RunRecord {
        test_accuracy,
        epochs: history.len(),
        seconds,
        seed: config.seed,
        train_examples: train_y.len(),
        test_examples: test_y.len(),
        normalisation: Normalisation { mean, std },
        config,
        history,
        weights: weights_file.display().to_string(),
        weights_checksum,
        command: format!("cnn-book train {}", args.join(" ")),
        cpu: Some(cpu_description()),
    };
    results.insert(model_name.clone(), record);
    // Weights and record as one step: both written and flushed before either replaces its
    // file, so a failed write leaves both as they were. A run killed between the two
    // renames leaves a record whose checksum the weights do not match, which every reader
    // of the pair refuses (`checkpoint::load_recorded`).
    let results_text = encode_results(&results).map_err(err)?;
    cnn_book::files::write_atomic_all(&[
        (weights_file.as_path(), &weights_bytes[..]),
        (results_file.as_path(), results_text.as_bytes()),
    ])
    .map_err(err)?;
    println!(
        "wrote {} and {}",
        results_file.display(),
        weights_file.display()
    );
    Ok(())
}
