//! Fuzzes the readers of user-supplied files (see `cnn_book::fuzz`) on stable Rust:
//!
//! ```text
//! cargo run --release --example fuzz -- TARGET [COUNT] [SEED]
//! ```
//!
//! TARGET is `idx`, `weights`, `results` or `all`; COUNT inputs per target (default
//! 100,000), each a seed file of `fuzz/corpus/TARGET/` changed by `cnn_book::fuzz::mutate`
//! (one in eight inputs is arbitrary bytes instead). Prints how many inputs ran, the
//! slowest one, and every input that panicked or broke a promise, which it also writes to
//! `fuzz/crashes/TARGET-N.bin`. Exits with 1 if any did.

use std::path::Path;
use std::time::{Duration, Instant};

use cnn_book::fuzz::{mutate, Target};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn corpus(target: Target) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target.name());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect()
}

fn run(target: Target, count: u64, seed: u64) -> u64 {
    let seeds = corpus(target);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut failures, mut slowest) = (0u64, (Duration::ZERO, 0usize));
    let started = Instant::now();
    for i in 0..count {
        let input = if rng.random_range(0..8) == 0 {
            let len = rng.random_range(0..256);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let seed = &seeds[rng.random_range(0..seeds.len())];
            mutate(&mut rng, seed)
        };
        let t = Instant::now();
        let outcome = std::panic::catch_unwind(|| target.check(&input));
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, input.len());
        }
        let broken = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(why)) => Some(why),
            Err(panic) => Some(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(why) = broken {
            failures += 1;
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes");
            std::fs::create_dir_all(&dir).expect("fuzz/crashes");
            let file = dir.join(format!("{}-{i}.bin", target.name()));
            std::fs::write(&file, &input).expect("writing a crash");
            println!(
                "{}: input {i}: {why} (saved to {})",
                target.name(),
                file.display()
            );
        }
    }
    println!(
        "{}: {count} inputs from {} seed files in {:.1} s, {failures} failed; slowest {:.2} ms ({} bytes)",
        target.name(),
        seeds.len(),
        started.elapsed().as_secs_f64(),
        slowest.0.as_secs_f64() * 1e3,
        slowest.1
    );
    failures
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: fuzz idx|weights|results|all [COUNT] [SEED]";
    let targets = match args.first().map(String::as_str) {
        Some("all") => Target::ALL.to_vec(),
        Some(name) => vec![Target::from_name(name).unwrap_or_else(|| panic!("{usage}"))],
        None => panic!("{usage}"),
    };
    let number = |i: usize, default: u64| {
        args.get(i)
            .map(|s| {
                s.replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{usage}"))
            })
            .unwrap_or(default)
    };
    let (count, seed) = (number(1, 100_000), number(2, 1));
    // Panics are caught and reported once each, without the default message per panic.
    std::panic::set_hook(Box::new(|_| {}));
    let failures: u64 = targets.into_iter().map(|t| run(t, count, seed)).sum();
    std::process::exit(if failures > 0 { 1 } else { 0 });
}
