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
    cnn_book::checkpoint::load(&mut model, &dir.join("lenet.safetensors")).unwrap();
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
