//! The `cnn-book` command line, run as a reader would run it.

use std::process::Command;

fn cnn_book(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cnn-book"))
        .args(args)
        .output()
        .expect("the cnn-book binary runs")
}

#[test]
fn figures_writes_the_selected_chapter() {
    let dir = std::env::temp_dir().join(format!("cnn-book-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("SUMMARY.md"), "# Summary\n").unwrap();
    let out = cnn_book(&["figures", "--chapter", "3", "--book", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("generating 03-parameter-sharing"),
        "{stdout}"
    );
    assert!(dir
        .join("figures/03-parameter-sharing/alexnet-params.svg")
        .is_file());
    assert!(dir
        .join("generated/03-parameter-sharing/manifest.json")
        .is_file());
    assert!(
        !dir.join("generated/01-fully-connected").exists(),
        "only chapter 3 was asked for"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_gets_a_clear_error_and_a_failing_exit_code() {
    let out = cnn_book(&["figures", "--chapter", "42"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no chapter '42'"));

    let out = cnn_book(&["figures", "--book", "/nonexistent"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no SUMMARY.md"));

    let out = cnn_book(&["figures", "--chapter"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chapter needs a value"));

    let out = cnn_book(&["train-everything"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command 'train-everything'"));
}

#[test]
fn help_lists_the_commands() {
    // Asked for in any position: `--help` is never taken for a model or a value.
    for args in [
        &["help"][..],
        &["--help"],
        &["train", "--help"],
        &["train", "lenet", "-h"],
        &["figures", "--help"],
    ] {
        let out = cnn_book(args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("figures") && text.contains("--chapter") && text.contains("--epochs"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn train_rejects_bad_arguments_clearly() {
    let out = cnn_book(&["train"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("train needs a model name"));
    let out = cnn_book(&["train", "alexnet"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model 'alexnet'"));
    let out = cnn_book(&["train", "lenet", "--epochs", "many"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--epochs takes a whole number, got 'many'")
    );
    let out = cnn_book(&["train", "lenet", "--data", "/nonexistent"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Fashion-MNIST not found") && err.contains("/nonexistent"),
        "{err}"
    );
}

#[test]
fn a_tiny_training_run_writes_results_and_weights() {
    if cnn_book::data::fashion_mnist::locate(None).is_err() {
        eprintln!("full Fashion-MNIST not installed; skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("cnn-book-train-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let out = cnn_book(&[
        "train",
        "lenet",
        "--epochs",
        "1",
        "--limit",
        "300",
        "--out",
        d,
        "--weights",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let r = &results["lenet"];
    for key in [
        "test_accuracy",
        "epochs",
        "seconds",
        "seed",
        "train_examples",
        "test_examples",
    ] {
        assert!(!r[key].is_null(), "results.json lacks {key}");
    }
    assert_eq!(r["train_examples"], 300);
    assert_eq!(r["test_examples"], 10_000);
    let mut model = cnn_book::models::lenet(0);
    let weights = dir.join("lenet.safetensors");
    let recorded = r["weights_checksum"].as_str().unwrap();
    cnn_book::checkpoint::load_recorded(&mut model, &weights, recorded).unwrap();
    // A run stopped after writing its weights but before its record (simulated: other
    // weights in place of these) leaves a pair that disagrees: loading them is an error
    // that names both checksums, not a silent mix of two runs.
    let other = cnn_book::checkpoint::save(&cnn_book::models::lenet(1), &weights).unwrap();
    let err = cnn_book::checkpoint::load_recorded(&mut model, &weights, recorded)
        .unwrap_err()
        .to_string();
    assert!(err.contains(recorded) && err.contains(&other), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn summary_prints_the_table_and_the_total_for_every_network() {
    let help = cnn_book(&["summary", "--help"]);
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout).replace(['\n', ' '], "");
    for name in cnn_book::architectures::NAMES {
        assert!(help.contains(name), "summary --help does not list {name}");
    }
    // ResNet-50: torchvision's documentation lists 25.6M parameters (25,557,032).
    let out = cnn_book(&["summary", "resnet50", "--depth", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("layer4"), "{text}");
    assert_eq!(text.lines().last().unwrap(), "Total params: 25,557,032");
    let bad = cnn_book(&["summary", "resnet101"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("resnet101") && err.contains("resnet152"),
        "{err}"
    );
}

/// Raw IDX files of `n` images of 28 x 28, every pixel `pixel`, all of class 0: a data
/// set with nothing to learn from.
fn one_colour_data(dir: &std::path::Path, n: u32, pixel: u8) {
    std::fs::create_dir_all(dir).unwrap();
    for split in ["train", "t10k"] {
        let mut images = [0x0803u32, n, 28, 28].map(u32::to_be_bytes).concat();
        images.extend(std::iter::repeat_n(pixel, (n * 28 * 28) as usize));
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
        let mut labels = [0x0801u32, n].map(u32::to_be_bytes).concat();
        labels.extend(std::iter::repeat_n(0u8, n as usize));
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), labels).unwrap();
    }
}

#[test]
fn a_run_that_cannot_train_or_diverges_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("cnn-book-refuse-{}", std::process::id()));
    let data = dir.join("data");
    one_colour_data(&data, 16, 7);
    // What an earlier run left: every refusal below must leave it as it was.
    std::fs::write(dir.join("lenet.safetensors"), b"earlier weights").unwrap();
    std::fs::write(dir.join("results.json"), "{}\n").unwrap();
    let (d, data) = (dir.to_str().unwrap(), data.to_str().unwrap());
    let run = |extra: &[&str]| {
        let mut args = vec!["train", "lenet", "--out", d, "--weights", d, "--data", data];
        args.extend(extra);
        let out = cnn_book(&args);
        assert!(!out.status.success(), "{extra:?} succeeded");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let unchanged = || {
        assert_eq!(
            std::fs::read(dir.join("lenet.safetensors")).unwrap(),
            b"earlier weights"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("results.json")).unwrap(),
            "{}\n"
        );
    };
    for (extra, says) in [
        (&["--limit", "0"][..], "--limit 0"),
        (&["--epochs", "0"], "at least 1"),
        (&["--batch", "0"], "at least 1"),
        (&["--lr", "-1"], "learning rate"),
        (&["--threads", "100000"], "--threads must be between 1 and"),
        // Images of one colour: a standard deviation of 0 to divide by.
        (&["--epochs", "1"], "standard deviation 0"),
    ] {
        let err = run(extra);
        assert!(err.contains(says), "{extra:?}: {err}");
        unchanged();
    }
    // A damaged results file is an error before any training, and is not overwritten.
    std::fs::write(dir.join("results.json"), "{ damaged").unwrap();
    let err = run(&["--epochs", "1"]);
    assert!(
        err.contains("results.json") && err.contains("not a results file"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("results.json")).unwrap(),
        "{ damaged"
    );
    std::fs::write(dir.join("results.json"), "{}\n").unwrap();
    // A learning rate that blows the weights up: stopped, named, nothing written.
    if cnn_book::data::fashion_mnist::locate(None).is_ok() {
        let out = cnn_book(&[
            "train",
            "lenet",
            "--out",
            d,
            "--weights",
            d,
            "--limit",
            "64",
            "--batch",
            "64",
            "--epochs",
            "2",
            "--lr",
            "1e6",
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("diverged"), "{err}");
        unchanged();
    } else {
        eprintln!("full Fashion-MNIST not installed: the diverging run was skipped");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
