//! The `cnn-book` command line: regenerate the book's figures and numbers.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
cnn-book: the command-line companion of the cnn-book course

USAGE:
    cnn-book figures [--chapter SLUG|NUMBER]... [--book DIR]
    cnn-book chapters
    cnn-book help

COMMANDS:
    figures     Regenerate figures (book/figures/<slug>/) and generated numbers
                (book/generated/<slug>/) of every chapter, or of the chapters named
                with --chapter (e.g. --chapter 2 or --chapter 02-local-connectivity).
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
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(());
    };
    match command.as_str() {
        "figures" => figures(rest),
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
            other => return Err(format!("unknown option '{other}' for 'figures'\n\n{USAGE}")),
        }
    }
    if !book.join("SUMMARY.md").is_file() {
        return Err(format!(
            "{} does not look like the book's source (no SUMMARY.md); run from the repository root or pass --book DIR",
            book.display()
        ));
    }
    let chapters = cnn_book::figures::select(&selection)?;
    for chapter in &chapters {
        println!("generating {}", chapter.slug);
    }
    let written = cnn_book::figures::generate(&book, &chapters).map_err(|e| e.to_string())?;
    println!("wrote {} files under {}", written.len(), book.display());
    Ok(())
}
