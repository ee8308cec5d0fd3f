//! Shared machinery of the checkers: run the student's function on many inputs, compare
//! with the library, and explain the first mismatches. Not a test binary itself (Cargo only
//! builds `tests/*.rs`), so it holds no `#[test]`.

// Every checker file compiles its own copy; not all of them use every helper.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::io::Write;
use std::panic::{catch_unwind, panic_any, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Once;
use std::time::Duration;

use ndarray::{Array, Array2, Array4, Dimension};

/// How many mismatches a failure message lists before it only counts the rest.
const SHOWN: usize = 5;

/// Seconds one call of a student's function may take before the checker stops it: far
/// more than any correct answer needs (the slowest take well under a second), so that
/// only a loop that does not end, or one that is very far from done, runs into it.
/// `CHECKER_TIME_LIMIT=<seconds>` sets another (`0`: none).
pub const TIME_LIMIT_SECONDS: u64 = 20;

/// What a call that runs into the time limit is usually doing, unless the exercise says
/// better ([`Checker::on_timeout`]).
const LOOP_HINT: &str = "A call this slow is almost always a loop that does not end: check \
     that every pass of each loop moves towards its exit (a counter that grows, a range \
     that shrinks) for this input too, and that the exit condition can become true.";

/// The time limit of one call: `CHECKER_TIME_LIMIT` seconds if it is set to a number
/// (`0` for none, to step through a call in a debugger), [`TIME_LIMIT_SECONDS`] otherwise.
fn time_limit() -> Option<Duration> {
    let seconds = std::env::var("CHECKER_TIME_LIMIT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(TIME_LIMIT_SECONDS as f64);
    (seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// A checker's report, raised as a panic to fail the test: the panic hook prints just
/// its text, with no "panicked at" line and no backtrace, whatever `RUST_BACKTRACE` says.
pub struct Report(pub String);

thread_local! {
    /// Set while a student's function runs on this thread: its panics are recorded here
    /// (message and place) instead of printed, and reported with the input.
    static STUDENT: Cell<bool> = const { Cell::new(false) };
    static STUDENT_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Replaces the panic hook once per test binary: a [`Report`] prints its text alone; a
/// panic in a student's function is kept for the report (with a backtrace only if
/// `CHECKER_BACKTRACE=1` asks for it); any other panic (a bug of the checker) gets the
/// usual message.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let usual = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(Report(text)) = info.payload().downcast_ref::<Report>() {
                eprintln!("{text}");
            } else if STUDENT.with(Cell::get) {
                let mut message = panic_message(info.payload());
                if let Some(place) = info.location() {
                    message.push_str(&format!(" (at {}:{})", place.file(), place.line()));
                }
                if std::env::var("CHECKER_BACKTRACE").is_ok_and(|v| v == "1") {
                    message.push_str(&format!("\n{}", std::backtrace::Backtrace::force_capture()));
                }
                STUDENT_PANIC.with(|p| *p.borrow_mut() = Some(message));
            } else {
                usual(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// Runs `student` on a thread of its own with the time limit. Returns its answer, or its
/// panic's message (with the place); past the limit, `timed_out` is called (it reports
/// and ends the process: a thread cannot be stopped, and a test must not hang).
fn run_student<T: Send>(
    student: impl FnOnce() -> T + Send,
    timed_out: impl FnOnce(Duration) -> std::convert::Infallible,
) -> Result<T, String> {
    install_panic_hook();
    let limit = time_limit();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        scope.spawn(move || {
            STUDENT.with(|s| s.set(true));
            let result = catch_unwind(AssertUnwindSafe(student)).map_err(|payload| {
                STUDENT_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| panic_message(payload.as_ref()))
            });
            STUDENT.with(|s| s.set(false));
            let _ = sender.send(result);
        });
        let Some(limit) = limit else {
            return receiver
                .recv()
                .expect("the student's thread sends its result before it ends");
        };
        match receiver.recv_timeout(limit) {
            Ok(result) => result,
            Err(_) => match timed_out(limit) {},
        }
    })
}

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
    /// What a call that runs into the time limit is usually doing.
    timeout_hint: &'static str,
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
            timeout_hint: LOOP_HINT,
            checked: 0,
            wrong: 0,
            first_wrong: Vec::new(),
        }
    }

    /// What to suggest when a call runs into the time limit, for this exercise.
    pub fn on_timeout(mut self, hint: &'static str) -> Self {
        self.timeout_hint = hint;
        self
    }

    /// Runs the student's function under the time limit; a panic or an expired limit is
    /// reported with the input (`call`) at once.
    fn run<T: Send>(&self, call: impl FnOnce() -> String, student: impl FnOnce() -> T + Send) -> T {
        let mut call = Some(call);
        let mut describe = || call.take().map_or_else(String::new, |c| c());
        match run_student(student, |limit| {
            let text = format!(
                "\n\nExercise {}: `{}` was still running after {} s on\n  {}\n{}\n\
                 (The checker stopped this test run there: a call cannot be interrupted. \
                 Edit {}; CHECKER_TIME_LIMIT=<seconds> sets another limit.)\n",
                self.number,
                self.function,
                limit.as_secs_f64(),
                describe(),
                self.timeout_hint,
                self.file
            );
            // Straight to the terminal: the test harness's capture would be lost on exit.
            let _ = std::io::stderr().write_all(text.as_bytes());
            let _ = std::io::stderr().flush();
            std::process::exit(124)
        }) {
            Ok(answer) => answer,
            Err(message) => self.panicked(&describe(), &message),
        }
    }

    /// Calls the student's function (`student`) on the input written out in `call`
    /// (e.g. `"input_size_for(3, 3, 1, 2)"`) and records whether it returned `expected`.
    ///
    /// A panic inside the student's function stops the check at once, naming the input.
    pub fn check<T: PartialEq + Debug + Send>(
        &mut self,
        call: impl FnOnce() -> String,
        expected: T,
        student: impl FnOnce() -> T + Send,
    ) {
        self.checked += 1;
        let mut call = Some(call);
        let actual = self.run(|| call.take().map_or_else(String::new, |c| c()), student);
        let call = || call.take().map_or_else(String::new, |c| c());
        if actual != expected {
            self.record(call, || {
                (format!("{expected:?}"), format!("{actual:?}"), None)
            });
        }
    }

    /// Like [`Checker::check`], for floating-point answers (numbers, vectors, arrays of any
    /// dimension, `Option`s, pairs and triples of them): the answer is right when it has the
    /// expected shape and every entry is
    /// within `tolerance` of the expected one, relative to the larger of 1 and the
    /// entries' magnitudes. Rounding differences from another summation order pass; a
    /// wrong entry does not. A tolerance of 0 asks for exact equality.
    pub fn check_close<T: Floats + Send>(
        &mut self,
        call: impl FnOnce() -> String,
        expected: T,
        student: impl FnOnce() -> T + Send,
        tolerance: f64,
    ) {
        self.checked += 1;
        let mut call = Some(call);
        let actual = self.run(|| call.take().map_or_else(String::new, |c| c()), student);
        let call = || call.take().map_or_else(String::new, |c| c());
        if let Some(note) = T::difference(&expected, &actual, tolerance) {
            self.record(call, || (expected.show(), actual.show(), Some(note)));
        }
    }

    /// Like [`Checker::check_close`], and a wrong answer is also shown to `explain`, which
    /// may recognise a common mistake in it (a transposed matrix, a step left out) and
    /// say so in the report.
    pub fn check_close_explained<T: Floats + Send>(
        &mut self,
        call: impl FnOnce() -> String,
        expected: T,
        student: impl FnOnce() -> T + Send,
        tolerance: f64,
        explain: impl FnOnce(&T) -> Option<String>,
    ) {
        self.checked += 1;
        let mut call = Some(call);
        let actual = self.run(|| call.take().map_or_else(String::new, |c| c()), student);
        let call = || call.take().map_or_else(String::new, |c| c());
        if let Some(note) = T::difference(&expected, &actual, tolerance) {
            let note = match explain(&actual) {
                Some(mistake) => format!("{note}. {mistake}"),
                None => note,
            };
            self.record(call, || (expected.show(), actual.show(), Some(note)));
        }
    }

    /// Counts one wrong answer and keeps its description if it is among the first ones.
    fn record(
        &mut self,
        call: impl FnOnce() -> String,
        describe: impl FnOnce() -> (String, String, Option<String>),
    ) {
        self.wrong += 1;
        if self.first_wrong.len() < SHOWN {
            let (expected, actual, note) = describe();
            let mut text = format!(
                "  {}\n      expected {}\n      got      {}",
                call(),
                expected,
                actual
            );
            if let Some(note) = note {
                text.push_str(&format!("\n      ({note})"));
            }
            self.first_wrong.push(text);
        }
    }

    fn panicked(&self, call: &str, message: &str) -> ! {
        if message.starts_with("not yet implemented") {
            panic_any(Report(format!(
                "\n\nExercise {} is not done yet: `{}` still calls todo!().\n\
                 Replace the todo!() in {} with your code, then run this test again.\n",
                self.number, self.function, self.file
            )));
        }
        let note = if message.contains("subtract with overflow") {
            "\n(usize and u64 cannot go below zero: make sure b <= a before computing a - b.)"
        } else if message.contains("overflow") {
            "\n(The result does not fit in its integer type: avoid computing it, or use \
             checked_mul / checked_add and handle None.)"
        } else {
            ""
        };
        let backtrace = if message.contains("\n") {
            ""
        } else {
            "\n(CHECKER_BACKTRACE=1 adds a backtrace.)"
        };
        panic_any(Report(format!(
            "\n\nExercise {}: `{}` panicked on\n  {}\nwith: {}{}\nHint: {}\n(Edit {}.){}\n",
            self.number, self.function, call, message, note, self.hint, self.file, backtrace
        )));
    }

    /// Fails the test if any answer was wrong, listing the first few.
    pub fn finish(self) {
        assert!(
            self.checked > 0,
            "checker bug: exercise {} checked no inputs",
            self.number
        );
        if self.wrong > 0 {
            install_panic_hook();
            panic_any(Report(format!(
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
            )));
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

    /// A float in `low..high` (53 random bits).
    pub fn float(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        low + (high - low) * unit
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

/// A floating-point answer that [`Checker::check_close`] can compare entry by entry.
pub trait Floats {
    /// `None` if `actual` matches `expected` within `tolerance` (relative to the larger of
    /// 1 and the entries' magnitudes), else a note saying what differs first.
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String>;
    /// The whole answer for a failure message, as Rust code when it is short enough.
    fn show(&self) -> String;
}

/// How many entries a failure message prints before it only gives the shape.
const SHOWN_ENTRIES: usize = 100;

/// Whether `got` is within `tolerance` of `want`, relative to the larger of 1 and their
/// magnitudes. An infinite or NaN answer is never close to a finite one.
fn close(want: f64, got: f64, tolerance: f64) -> bool {
    want == got
        || (want.is_finite()
            && got.is_finite()
            && (want - got).abs() <= tolerance * want.abs().max(got.abs()).max(1.0))
}

/// Compares two answers given as a shape and their entries in row-major order (`None` for
/// an entry that is no number, as in `Vec<Option<f64>>`); `show` prints one entry.
fn entries_difference(
    (shape, want): (&[usize], &[Option<f64>]),
    (got_shape, got): (&[usize], &[Option<f64>]),
    tolerance: f64,
    show: impl Fn(Option<f64>) -> String,
) -> Option<String> {
    if shape != got_shape {
        let show = |shape: &[usize]| match shape {
            [length] => format!("length {length}"),
            _ => format!("shape {}", dims(shape)),
        };
        return Some(format!("{} instead of {}", show(got_shape), show(shape)));
    }
    let same = |w: Option<f64>, g: Option<f64>| match (w, g) {
        (None, None) => true,
        (Some(w), Some(g)) => close(w, g, tolerance),
        _ => false,
    };
    let wrong: Vec<usize> = (0..want.len())
        .filter(|&k| !same(want[k], got[k]))
        .collect();
    let &first = wrong.first()?;
    // The flat index as an index per axis, like `[1, 2]`.
    let mut index = vec![0; shape.len()];
    let mut rest = first;
    for axis in (0..shape.len()).rev() {
        index[axis] = rest % shape[axis];
        rest /= shape[axis];
    }
    Some(format!(
        "{} of {} entries differ; the first at {:?}: expected {}, got {}",
        wrong.len(),
        want.len(),
        index,
        show(want[first]),
        show(got[first])
    ))
}

impl Floats for f64 {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        (!close(*expected, *actual, tolerance)).then(|| format!("off by {}", actual - expected))
    }
    fn show(&self) -> String {
        format!("{self:?}")
    }
}

impl Floats for Vec<f64> {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        let some = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        entries_difference(
            (&[expected.len()], &some(expected)),
            (&[actual.len()], &some(actual)),
            tolerance,
            |x| format!("{:?}", x.expect("a number")),
        )
    }
    fn show(&self) -> String {
        if self.len() <= SHOWN_ENTRIES {
            format!("{self:?}")
        } else {
            format!("{:?} ... ({} values)", &self[..10], self.len())
        }
    }
}

impl Floats for Vec<f32> {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        let some = |v: &[f32]| v.iter().map(|&x| Some(x as f64)).collect::<Vec<_>>();
        entries_difference(
            (&[expected.len()], &some(expected)),
            (&[actual.len()], &some(actual)),
            tolerance,
            |x| format!("{:?}", x.expect("a number") as f32),
        )
    }
    fn show(&self) -> String {
        if self.len() <= SHOWN_ENTRIES {
            format!("{self:?}")
        } else {
            format!("{:?} ... ({} values)", &self[..10], self.len())
        }
    }
}

/// A list of numbers some of which may be missing (`None`), like per-class accuracies.
impl Floats for Vec<Option<f64>> {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        entries_difference(
            (&[expected.len()], expected),
            (&[actual.len()], actual),
            tolerance,
            |x| format!("{x:?}"),
        )
    }
    fn show(&self) -> String {
        if self.len() <= SHOWN_ENTRIES {
            format!("{self:?}")
        } else {
            format!("{:?} ... ({} values)", &self[..10], self.len())
        }
    }
}

/// `f32` arrays of any dimension: `Array1<f32>`, `Array2<f32>`, `Array4<f32>`, ...
impl<D: Dimension> Floats for Array<f32, D> {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        let entries = |a: &Self| a.iter().map(|&x| Some(x as f64)).collect::<Vec<_>>();
        entries_difference(
            (expected.shape(), &entries(expected)),
            (actual.shape(), &entries(actual)),
            tolerance,
            |x| format!("{:?}", x.expect("a number") as f32),
        )
    }
    fn show(&self) -> String {
        if self.len() <= SHOWN_ENTRIES {
            array_code(self)
        } else {
            let sizes: Vec<String> = self.shape().iter().map(|n| n.to_string()).collect();
            format!("a {} array (too large to show)", sizes.join("x"))
        }
    }
}

impl<T: Floats> Floats for Option<T> {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        match (expected, actual) {
            (None, None) => None,
            (None, Some(_)) => Some("expected None, got an answer".into()),
            (Some(_), None) => Some("expected an answer, got None".into()),
            (Some(e), Some(a)) => T::difference(e, a, tolerance),
        }
    }
    fn show(&self) -> String {
        match self {
            Some(value) => format!("Some({})", value.show()),
            None => "None".to_string(),
        }
    }
}

/// Two answers at once, like a matrix and what it computes: every part that differs is
/// named by its position in the pair, `.0` or `.1`.
impl<A: Floats, B: Floats> Floats for (A, B) {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        let notes: Vec<String> = [
            A::difference(&expected.0, &actual.0, tolerance),
            B::difference(&expected.1, &actual.1, tolerance),
        ]
        .into_iter()
        .enumerate()
        .filter_map(|(part, note)| note.map(|note| format!(".{part}: {note}")))
        .collect();
        (!notes.is_empty()).then(|| notes.join("; "))
    }
    fn show(&self) -> String {
        format!("({}, {})", self.0.show(), self.1.show())
    }
}

/// Three answers at once, like the gradients `(dL/dx, dL/dw, dL/db)`: every part that
/// differs is named by its position in the tuple, `.0`, `.1` or `.2`.
impl<A: Floats, B: Floats, C: Floats> Floats for (A, B, C) {
    fn difference(expected: &Self, actual: &Self, tolerance: f64) -> Option<String> {
        let notes: Vec<String> = [
            A::difference(&expected.0, &actual.0, tolerance),
            B::difference(&expected.1, &actual.1, tolerance),
            C::difference(&expected.2, &actual.2, tolerance),
        ]
        .into_iter()
        .enumerate()
        .filter_map(|(part, note)| note.map(|note| format!(".{part}: {note}")))
        .collect();
        (!notes.is_empty()).then(|| notes.join("; "))
    }
    fn show(&self) -> String {
        format!("({}, {}, {})", self.0.show(), self.1.show(), self.2.show())
    }
}

/// A shape as a tuple, `(2, 3)`, the way `Array2::dim` prints it.
fn dims(shape: &[usize]) -> String {
    let sizes: Vec<String> = shape.iter().map(|size| size.to_string()).collect();
    format!("({})", sizes.join(", "))
}

/// An `f32` array of any dimension as Rust code, `array![[1.0, 2.0], [3.0, 4.0]]`, so that
/// a failing input can be pasted into a test (`use ndarray::{array, Array2};`). Arrays with
/// no entries are written `Array2::<f32>::zeros((rows, columns))`, and likewise in other
/// dimensions.
pub fn array_code<D: Dimension>(array: &Array<f32, D>) -> String {
    nested_code(array, "f32", |&x| float_code(x))
}

/// One `f32` as Rust code: `1.5`, `-0.0`, or `f32::INFINITY`, `f32::NEG_INFINITY`,
/// `f32::NAN` for the values that have no literal.
pub fn float_code(x: f32) -> String {
    if x.is_nan() {
        "f32::NAN".into()
    } else if x == f32::INFINITY {
        "f32::INFINITY".into()
    } else if x == f32::NEG_INFINITY {
        "f32::NEG_INFINITY".into()
    } else {
        format!("{x:?}")
    }
}

/// An array of any element type as Rust code: `entry` writes one element, and `type_name`
/// names the element type for an array with no entries (which `zeros` then builds, so the
/// type must have a zero).
pub fn nested_code<A, D: Dimension>(
    array: &Array<A, D>,
    type_name: &str,
    entry: impl Fn(&A) -> String,
) -> String {
    let shape = array.shape();
    if array.is_empty() {
        let size = match shape {
            [length] => length.to_string(),
            _ => dims(shape),
        };
        return format!("Array{}::<{type_name}>::zeros({size})", shape.len());
    }
    /// `values` (row-major) in nested brackets, one level per axis of `shape`.
    fn nest(values: &[String], shape: &[usize]) -> String {
        match shape {
            [] | [_] => format!("[{}]", values.join(", ")),
            [_, inner @ ..] => {
                let chunk: usize = inner.iter().product();
                let parts: Vec<String> = values.chunks(chunk).map(|c| nest(c, inner)).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }
    let values: Vec<String> = array.iter().map(entry).collect();
    format!("array!{}", nest(&values, shape))
}

/// A `rows x columns` array of random values: small integers from -4 to 4 (every sum of
/// products is then exact in `f32`) or, with `integers` false, floats in [-1, 1).
pub fn random_array(rng: &mut Rng, rows: usize, columns: usize, integers: bool) -> Array2<f32> {
    Array2::from_shape_fn((rows, columns), |_| {
        if integers {
            rng.between(0, 8) as f32 - 4.0
        } else {
            rng.float(-1.0, 1.0) as f32
        }
    })
}

/// An `(N, C, H, W)` array of random values, small integers or floats as in
/// [`random_array`].
pub fn random_array4(
    rng: &mut Rng,
    shape: (usize, usize, usize, usize),
    integers: bool,
) -> Array4<f32> {
    Array4::from_shape_fn(shape, |_| {
        if integers {
            rng.between(0, 8) as f32 - 4.0
        } else {
            rng.float(-1.0, 1.0) as f32
        }
    })
}
