//! Shared machinery of the checkers: run the student's function on many inputs, compare
//! with the library, and explain the first mismatches. Not a test binary itself (Cargo only
//! builds `tests/*.rs`), so it holds no `#[test]`.

// Every checker file compiles its own copy; not all of them use every helper.
#![allow(dead_code)]

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// How many mismatches a failure message lists before it only counts the rest.
const SHOWN: usize = 5;

/// Compares one exercise's function with the expected values, input by input.
pub struct Checker {
    /// "1.1", "2.3", ...
    number: &'static str,
    /// The function's name, as the student wrote it.
    function: &'static str,
    /// The stub file the student edits, relative to the repository root.
    file: &'static str,
    /// What to look at when an answer is wrong.
    hint: &'static str,
    checked: usize,
    wrong: usize,
    first_wrong: Vec<String>,
}

impl Checker {
    pub fn new(
        number: &'static str,
        function: &'static str,
        file: &'static str,
        hint: &'static str,
    ) -> Self {
        Checker {
            number,
            function,
            file,
            hint,
            checked: 0,
            wrong: 0,
            first_wrong: Vec::new(),
        }
    }

    /// Calls the student's function (`student`) on the input written out in `call`
    /// (e.g. `"input_size_for(3, 3, 1, 2)"`) and records whether it returned `expected`.
    ///
    /// A panic inside the student's function stops the check at once, naming the input.
    pub fn check<T: PartialEq + Debug>(
        &mut self,
        call: impl FnOnce() -> String,
        expected: T,
        student: impl FnOnce() -> T,
    ) {
        self.checked += 1;
        let actual = match catch_unwind(AssertUnwindSafe(student)) {
            Ok(actual) => actual,
            Err(payload) => self.panicked(&call(), payload),
        };
        if actual != expected {
            self.wrong += 1;
            if self.first_wrong.len() < SHOWN {
                self.first_wrong.push(format!(
                    "  {}\n      expected {:?}\n      got      {:?}",
                    call(),
                    expected,
                    actual
                ));
            }
        }
    }

    fn panicked(&self, call: &str, payload: Box<dyn std::any::Any + Send>) -> ! {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        if message.starts_with("not yet implemented") {
            panic!(
                "\n\nExercise {} is not done yet: `{}` still calls todo!().\n\
                 Replace the todo!() in {} with your code, then run this test again.\n",
                self.number, self.function, self.file
            );
        }
        let note = if message.contains("subtract with overflow") {
            "\n(usize and u64 cannot go below zero: make sure b <= a before computing a - b.)"
        } else if message.contains("overflow") {
            "\n(The result does not fit in its integer type: avoid computing it, or use \
             checked_mul / checked_add and handle None.)"
        } else {
            ""
        };
        panic!(
            "\n\nExercise {}: `{}` panicked on\n  {}\nwith: {}{}\nHint: {}\n(Edit {}.)\n",
            self.number, self.function, call, message, note, self.hint, self.file
        );
    }

    /// Fails the test if any answer was wrong, listing the first few.
    pub fn finish(self) {
        assert!(
            self.checked > 0,
            "checker bug: exercise {} checked no inputs",
            self.number
        );
        if self.wrong > 0 {
            panic!(
                "\n\nExercise {}: `{}` gave {} wrong answer(s) out of {} inputs. {}:\n{}\n\n\
                 Hint: {}\n(Edit {}.)\n",
                self.number,
                self.function,
                self.wrong,
                self.checked,
                if self.wrong > SHOWN {
                    "The first ones"
                } else {
                    "They are"
                },
                self.first_wrong.join("\n"),
                self.hint,
                self.file
            );
        }
    }
}

/// A small deterministic pseudo-random generator (xorshift64*), so that every run checks
/// the same inputs without pulling in a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Any non-zero state works; mix the seed so that small seeds differ a lot.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// A `usize` in `low..=high`.
    pub fn size(&mut self, low: usize, high: usize) -> usize {
        self.between(low as u64, high as u64) as usize
    }

    /// True with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.next_u64() % denominator < numerator
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.size(0, items.len() - 1)]
    }
}

/// The largest `n >= 1` for which `fits(n)` holds, or 0 if `fits(1)` does not.
///
/// `fits` must hold up to some point and fail from there on. Doubling then bisection
/// finds the point with a few dozen calls, however large it is.
pub fn largest_fitting(fits: impl Fn(u64) -> bool) -> u64 {
    if !fits(1) {
        return 0;
    }
    let (mut low, mut high) = (1, 2); // fits(low) holds; high is still unknown
    while fits(high) {
        low = high;
        high *= 2;
    }
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if fits(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    assert!(
        fits(low) && !fits(low + 1),
        "checker bug: search ended at {low}"
    );
    low
}
