//! The "your turn" cells of the notebooks: the reader writes an answer worked out by hand,
//! the cell compares it with what the library computes and says what it thinks, without
//! panicking, so that an unanswered or wrong answer never stops the rest of the notebook.
//!
//! ```
//! use cnn_book::your_turn::{check, Verdict};
//! // A 3 x 3 window, stride 1, no padding, on a 5 x 5 image: how wide is the output?
//! let answer: Option<usize> = None; // the reader replaces None with Some(...)
//! assert_eq!(check("output width", answer, 3, "(W - F + 2P) / S + 1"), Verdict::Unanswered);
//! assert_eq!(check("output width", Some(3), 3, ""), Verdict::Correct);
//! assert_eq!(check("output width", Some(4), 3, ""), Verdict::Wrong);
//! ```

use std::fmt::Debug;

/// What a "your turn" cell found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is still `None`.
    Unanswered,
    Correct,
    Wrong,
}

/// Compares the reader's `answer` with `expected`, prints the verdict (with `hint` when
/// the answer is wrong) and returns it.
pub fn check<T: PartialEq + Debug>(
    question: &str,
    answer: Option<T>,
    expected: T,
    hint: &str,
) -> Verdict {
    let verdict = match &answer {
        None => Verdict::Unanswered,
        Some(a) if *a == expected => Verdict::Correct,
        Some(_) => Verdict::Wrong,
    };
    println!("{}", report(question, answer.as_ref(), verdict, hint));
    verdict
}

/// As [`check`], for a number that may differ from `expected` by rounding: an answer
/// within `tolerance` (relative to `|expected|`, or absolute below 1) counts as correct.
pub fn check_close(
    question: &str,
    answer: Option<f64>,
    expected: f64,
    tolerance: f64,
    hint: &str,
) -> Verdict {
    assert!(
        tolerance >= 0.0 && tolerance.is_finite(),
        "check_close: the tolerance must be finite and non-negative, not {tolerance}"
    );
    let verdict = match answer {
        None => Verdict::Unanswered,
        Some(a) if (a - expected).abs() <= tolerance * expected.abs().max(1.0) => Verdict::Correct,
        Some(_) => Verdict::Wrong,
    };
    println!("{}", report(question, answer.as_ref(), verdict, hint));
    verdict
}

/// The message a cell prints for a verdict (without the expected value, which would give
/// the answer away).
pub fn report<T: Debug>(
    question: &str,
    answer: Option<&T>,
    verdict: Verdict,
    hint: &str,
) -> String {
    match (verdict, answer) {
        (Verdict::Unanswered, _) | (_, None) => format!(
            "Your turn ({question}): replace `None` with `Some(your answer)` and run the cell again."
        ),
        (Verdict::Correct, Some(a)) => format!("Correct ({question}): {a:?}."),
        (Verdict::Wrong, Some(a)) => {
            let mut s = format!("Not yet ({question}): {a:?} is not it.");
            if !hint.is_empty() {
                s.push_str(" Hint: ");
                s.push_str(hint);
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_answers() {
        assert_eq!(check("q", None::<u32>, 7, "h"), Verdict::Unanswered);
        assert_eq!(check("q", Some(7), 7, "h"), Verdict::Correct);
        assert_eq!(check("q", Some(8), 7, "h"), Verdict::Wrong);
    }

    #[test]
    fn close_answers_by_relative_or_absolute_tolerance() {
        // 1% of 250 is 2.5: 252 is close enough, 253 is not.
        assert_eq!(
            check_close("q", Some(252.0), 250.0, 0.01, ""),
            Verdict::Correct
        );
        assert_eq!(
            check_close("q", Some(253.0), 250.0, 0.01, ""),
            Verdict::Wrong
        );
        // Below 1 the tolerance is absolute: 0.01 around 0.
        assert_eq!(
            check_close("q", Some(0.009), 0.0, 0.01, ""),
            Verdict::Correct
        );
        assert_eq!(check_close("q", Some(-0.02), 0.0, 0.01, ""), Verdict::Wrong);
        assert_eq!(check_close("q", None, 0.0, 0.01, ""), Verdict::Unanswered);
    }

    #[test]
    fn reports_name_the_question_and_never_the_expected_value() {
        let wrong = report("params", Some(&41), Verdict::Wrong, "count the biases");
        assert_eq!(
            wrong,
            "Not yet (params): 41 is not it. Hint: count the biases"
        );
        let right = report("params", Some(&42), Verdict::Correct, "count the biases");
        assert_eq!(right, "Correct (params): 42.");
        let open = report::<u32>("params", None, Verdict::Unanswered, "count the biases");
        assert!(open.starts_with("Your turn (params): replace `None`"));
    }

    #[test]
    #[should_panic(expected = "tolerance must be finite")]
    fn a_negative_tolerance_is_refused() {
        check_close("q", Some(1.0), 1.0, -1.0, "");
    }
}
