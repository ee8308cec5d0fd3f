//! Tests of the checkers' harness itself (`tests/common`), with made-up exercises: an
//! answer that loops, one that panics, one that is wrong and an untouched stub must each
//! give their report, once, within the time limit, and without backtraces even when
//! `RUST_BACKTRACE=1` is set.
//!
//! Each case runs one of the ignored `student_*` tests below in a child process (this test
//! binary, asked for that one test), because an expired time limit ends its process.
//! These tests pass on the stubs and on the solutions alike; `.ci/check-exercises` runs
//! them apart from the chapters' checkers.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::Checker;

const FILE: &str = "exercises/tests/harness.rs";

/// The made-up exercise: how many layers, each tripling the field, until it reaches
/// `target`? By hand: 1 -> 0 layers, 10 -> 3 (27; 9 is too few), 10^12 -> 26
/// (3^26 = 2,541,865,828,329; 3^25 = 847,288,609,443 is too few).
const CASES: [(u64, u32); 3] = [(1, 0), (10, 3), (1_000_000_000_000, 26)];

/// Forgets to grow the field, like forgetting `jump *= stride` in exercise 2.3: runs
/// for ever on every target above 1 (which is why clippy is told that this is meant).
#[allow(clippy::while_immutable_condition)]
fn layers_looping(target: u64) -> u32 {
    let field = 1u64;
    let mut layers = 0u32;
    while field < target {
        layers = layers.wrapping_add(1);
        std::hint::black_box(layers);
    }
    layers
}

/// Off by one on every target above 1.
fn layers_wrong(target: u64) -> u32 {
    let (mut field, mut layers) = (1u64, 0u32);
    while field < target {
        field = field.saturating_mul(3);
        layers += 1;
    }
    if target > 1 {
        layers + 1
    } else {
        layers
    }
}

/// Reads past the end of its slice.
fn last_panicking(values: &[u64]) -> u64 {
    values[values.len()]
}

fn layers_stub(target: u64) -> u32 {
    let _ = target;
    todo!("Exercise 0.4: layers to reach a target")
}

fn check_layers(number: &'static str, student: fn(u64) -> u32) {
    let mut checker = Checker::new(
        number,
        "layers_to_reach",
        FILE,
        "triple the field per layer",
    )
    .on_timeout("Does the field grow in every pass of the loop?");
    for (target, layers) in CASES {
        checker.check(
            || format!("layers_to_reach({target})"),
            layers,
            || student(target),
        );
    }
    checker.finish();
}

#[test]
#[ignore = "run by looping_answer_is_stopped_and_named, in a child process"]
fn student_looping() {
    check_layers("0.1", layers_looping);
}

#[test]
#[ignore = "run by wrong_answer_is_listed_once, in a child process"]
fn student_wrong() {
    check_layers("0.2", layers_wrong);
}

#[test]
#[ignore = "run by panicking_answer_is_reported_with_its_input, in a child process"]
fn student_panicking() {
    let mut checker = Checker::new("0.3", "last", FILE, "the last index is len() - 1");
    let values = vec![4u64, 5, 6];
    checker.check(
        || format!("last(&{values:?})"),
        6,
        || last_panicking(&values),
    );
    checker.finish();
}

#[test]
#[ignore = "run by stub_says_not_done_once, in a child process"]
fn student_stub() {
    check_layers("0.4", layers_stub);
}

/// Runs the ignored test `name` of this binary in a child process with a time limit of
/// one second and `RUST_BACKTRACE=1`; returns its output (stdout and stderr together),
/// its exit code and how long it took.
fn run_child(name: &str) -> (String, Option<i32>, Duration) {
    let started = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--ignored", "--exact", name, "--test-threads=1"])
        .env("CHECKER_TIME_LIMIT", "1")
        .env("RUST_BACKTRACE", "1")
        .env_remove("CHECKER_BACKTRACE")
        .output()
        .expect("the test binary runs");
    let text = String::from_utf8_lossy(&stdout).into_owned() + &String::from_utf8_lossy(&stderr);
    (text, status.code(), started.elapsed())
}

/// No backtrace and no advice to ask for one.
fn assert_quiet(output: &str) {
    for noise in ["stack backtrace", "RUST_BACKTRACE", "panicked at"] {
        assert!(!output.contains(noise), "{noise:?} in:\n{output}");
    }
}

#[test]
fn looping_answer_is_stopped_and_named() {
    let (output, code, took) = run_child("student_looping");
    // The first target passes (no loop at 1); the second loops, and is named.
    assert!(
        output.contains(
            "Exercise 0.1: `layers_to_reach` was still running after 1 s on\n  \
             layers_to_reach(10)\nDoes the field grow in every pass of the loop?"
        ),
        "{output}"
    );
    assert_eq!(code, Some(124), "{output}");
    // One second of limit, plus starting the process: far below the test's own patience.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_quiet(&output);
}

#[test]
fn wrong_answer_is_listed_once() {
    let (output, code, _) = run_child("student_wrong");
    let report = "Exercise 0.2: `layers_to_reach` gave 2 wrong answer(s) out of 3 inputs. \
                  They are:\n  layers_to_reach(10)\n      expected 3\n      got      4\n  \
                  layers_to_reach(1000000000000)\n      expected 26\n      got      27\n\n\
                  Hint: triple the field per layer";
    assert!(output.contains(report), "{output}");
    assert_eq!(output.matches("Exercise 0.2").count(), 1, "{output}");
    assert_eq!(code, Some(101), "{output}");
    assert_quiet(&output);
}

#[test]
fn panicking_answer_is_reported_with_its_input() {
    let (output, code, _) = run_child("student_panicking");
    assert!(
        output.contains(
            "Exercise 0.3: `last` panicked on\n  last(&[4, 5, 6])\nwith: index out of bounds: \
             the len is 3 but the index is 3 (at exercises/tests/harness.rs:"
        ),
        "{output}"
    );
    assert!(
        output.contains("Hint: the last index is len() - 1"),
        "{output}"
    );
    assert!(
        output.contains("(CHECKER_BACKTRACE=1 adds a backtrace.)"),
        "{output}"
    );
    assert_eq!(output.matches("Exercise 0.3").count(), 1, "{output}");
    assert_eq!(code, Some(101), "{output}");
    assert_quiet(&output);
}

#[test]
fn stub_says_not_done_once() {
    let (output, code, _) = run_child("student_stub");
    assert!(
        output.contains(
            "Exercise 0.4 is not done yet: `layers_to_reach` still calls todo!().\n\
             Replace the todo!() in exercises/tests/harness.rs with your code"
        ),
        "{output}"
    );
    assert_eq!(output.matches("Exercise 0.4").count(), 1, "{output}");
    assert!(!output.contains("not yet implemented"), "{output}");
    assert_eq!(code, Some(101), "{output}");
    assert_quiet(&output);
}
