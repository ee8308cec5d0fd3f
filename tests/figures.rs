//! The generator is deterministic and the committed figures and numbers are current:
//! regenerating every chapter into a scratch directory reproduces `book/` byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use cnn_book::figures::{generate, select};

/// A scratch copy of the repository holding only the committed inputs of `chapters` (what
/// their figures are drawn from); returns its book directory, where the generator writes.
fn scratch(name: &str, chapters: &[&cnn_book::figures::Chapter]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("cnn-book-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for input in chapters.iter().flat_map(|c| c.inputs) {
        let to = root.join(input);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(repo.join(input), &to).unwrap_or_else(|e| panic!("{input}: {e}"));
    }
    let book = root.join("book");
    fs::create_dir_all(&book).unwrap();
    book
}

/// Every chapter, less those that need the full data set where it is not installed.
fn runnable() -> Vec<&'static cnn_book::figures::Chapter> {
    let have_data = cnn_book::data::fashion_mnist::locate(None).is_ok();
    select(&[])
        .unwrap()
        .into_iter()
        .filter(|c| have_data || !c.needs_full_data)
        .collect()
}

#[test]
fn committed_outputs_match_a_fresh_run() {
    let chapters = runnable();
    let dir = scratch("figures", &chapters);
    let written = generate(&dir, &chapters).unwrap();
    assert!(
        written.len() >= chapters.len() * 3,
        "too few files: {written:?}"
    );
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book");
    let mut stale = Vec::new();
    for file in &written {
        let relative = file.strip_prefix(&dir).unwrap();
        let committed = fs::read(book.join(relative)).unwrap_or_default();
        if committed != fs::read(file).unwrap() {
            stale.push(relative.display().to_string());
        }
    }
    fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    assert!(
        stale.is_empty(),
        "these committed files differ from a fresh run; regenerate with `cargo run -- figures`: {stale:?}"
    );
}

#[test]
fn two_runs_are_byte_identical() {
    let chapters = runnable();
    let (a, b) = (scratch("run-a", &chapters), scratch("run-b", &chapters));
    let first = generate(&a, &chapters).unwrap();
    generate(&b, &chapters).unwrap();
    for file in &first {
        let relative = file.strip_prefix(&a).unwrap();
        assert_eq!(
            fs::read(file).unwrap(),
            fs::read(b.join(relative)).unwrap(),
            "{}",
            relative.display()
        );
    }
    fs::remove_dir_all(a.parent().unwrap()).unwrap();
    fs::remove_dir_all(b.parent().unwrap()).unwrap();
}

#[test]
fn chapters_are_selected_by_number_or_slug() {
    let by_number = select(&["2".to_string()]).unwrap();
    assert_eq!(by_number[0].slug, "02-local-connectivity");
    let by_slug = select(&["03-parameter-sharing".to_string()]).unwrap();
    assert_eq!(by_slug[0].slug, "03-parameter-sharing");
    let err = select(&["99".to_string()]).err().unwrap().to_string();
    assert!(
        err.contains("no chapter '99'") && err.contains("01-fully-connected"),
        "{err}"
    );
}
