//! The book's promises, checked: every `{{#include}}` names a real file and anchor, every
//! image it shows exists, and every written chapter has its notebook and exercises.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<_> = fs::read_dir(root().join("book"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// `{{#include path:anchor}}` directives of a page: (path, anchor).
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    text.split("{{#include ")
        .skip(1)
        .map(|rest| {
            let directive = rest.split("}}").next().unwrap().trim();
            match directive.split_once(':') {
                Some((path, anchor)) => (path.to_string(), Some(anchor.to_string())),
                None => (directive.to_string(), None),
            }
        })
        .collect()
}

#[test]
fn includes_resolve_to_files_and_anchors() {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for (path, anchor) in includes(&text) {
            count += 1;
            let target = page.parent().unwrap().join(&path);
            let Ok(source) = fs::read_to_string(&target) else {
                problems.push(format!("{}: {path} does not exist", page.display()));
                continue;
            };
            if let Some(anchor) = anchor {
                let starts = source.lines().any(|l| {
                    l.trim_start_matches(['/', ' ', '#']).trim() == format!("ANCHOR: {anchor}")
                });
                let ends = source.lines().any(|l| {
                    l.trim_start_matches(['/', ' ', '#']).trim() == format!("ANCHOR_END: {anchor}")
                });
                if !(starts && ends) {
                    problems.push(format!(
                        "{}: {path} has no anchor '{anchor}'",
                        page.display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(count > 20, "only {count} includes: is the book written?");
}

#[test]
fn images_exist() {
    let mut problems = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for part in text.split("](").skip(1) {
            let target = part.split(')').next().unwrap();
            let is_image = [".svg", ".png", ".gif"].iter().any(|e| target.ends_with(e));
            if is_image && !target.contains("://") && !page.parent().unwrap().join(target).is_file()
            {
                problems.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(problems.is_empty(), "missing images: {problems:#?}");
}

#[test]
fn written_chapters_are_complete_columns() {
    let summary = fs::read_to_string(root().join("book/SUMMARY.md")).unwrap();
    for page in pages() {
        let slug = page.file_stem().unwrap().to_str().unwrap().to_string();
        if !slug.as_bytes()[0].is_ascii_digit() {
            continue;
        }
        let text = fs::read_to_string(&page).unwrap();
        assert!(
            summary.contains(&format!("({slug}.md)")),
            "{slug} is not in SUMMARY.md"
        );
        assert!(
            text.contains("## Exercises"),
            "{slug} has no Exercises section"
        );
        let notebook = root().join(format!("notebooks/{slug}.ipynb"));
        assert!(notebook.is_file(), "{slug} has no notebook");
        let module = slug.replace('-', "_");
        let exercise = Path::new("exercises/tests").join(format!("ch{}.rs", &module));
        assert!(
            root().join(&exercise).is_file(),
            "{slug} has no checker {}",
            exercise.display()
        );
    }
}

#[test]
fn summary_lists_all_sixteen_chapters() {
    let summary = fs::read_to_string(root().join("book/SUMMARY.md")).unwrap();
    let chapters = summary.lines().filter(|l| l.starts_with("- [")).count();
    assert_eq!(
        chapters, 16,
        "SUMMARY.md should list the 16 chapters of the course"
    );
}

#[test]
fn notebooks_are_committed_clean_and_load_the_crate() {
    let mut count = 0;
    for entry in fs::read_dir(root().join("notebooks")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ipynb") {
            continue;
        }
        count += 1;
        let name = path.display();
        let nb: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
        assert_eq!(
            nb["metadata"]["kernelspec"]["name"], "rust",
            "{name}: kernel"
        );
        let cells = nb["cells"].as_array().unwrap();
        for cell in cells {
            assert!(cell["id"].is_string(), "{name}: a cell has no id");
            if cell["cell_type"] == "code" {
                assert_eq!(
                    cell["outputs"],
                    serde_json::json!([]),
                    "{name}: commit without outputs"
                );
                assert!(
                    cell["execution_count"].is_null(),
                    "{name}: commit without execution counts"
                );
            }
        }
        let source: String = cells
            .iter()
            .flat_map(|c| {
                c["source"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
            })
            .collect();
        assert!(
            source.contains(":dep cnn-book = { path = \"..\" }"),
            "{name}: does not load the crate"
        );
    }
    assert!(count >= 3, "only {count} notebooks");
}
