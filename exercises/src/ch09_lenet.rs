//! Exercises for chapter 9, *LeNet*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch09_lenet
//! ```
//!
//! Once a network is trained, one accuracy figure hides a lot: which classes does it get
//! wrong, and how far off is it when it is wrong? The exercises read a classifier's
//! output. A confusion matrix is an `ndarray::Array2<usize>`, indexed
//! `[true class, predicted class]`; scores are an `ndarray::Array2<f32>` with one row per
//! example and one column per class.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array2;

/// Exercise 9.1: the accuracy of each class.
///
/// `confusion[[t, p]]` counts the examples of true class `t` that the network predicted
/// as class `p` (as `cnn_book::train::confusion_matrix` builds it), for `K` classes: a
/// `K x K` matrix. Row `t` holds every example of class `t`, and the diagonal entry
/// `confusion[[t, t]]` those it got right. Return, for each class `t` in order, the
/// fraction of its examples predicted correctly,
///
/// ```text
/// accuracy[t] = confusion[t][t] / (sum over p of confusion[t][p])
/// ```
///
/// as `Some(accuracy)`, or `None` for a class with no examples at all (a row of zeros):
/// its accuracy is not 0, it is unknown. (This is each class's *recall*; dividing by the
/// column sum instead would give its *precision*.) `K` may be 0: then return an empty
/// vector.
///
/// Worked example: `per_class_accuracy(&array![[3, 1, 0], [0, 0, 0], [2, 0, 2]])` is
/// `vec![Some(0.75), None, Some(0.5)]`: class 0 has 4 examples, 3 right; class 1 has none;
/// class 2 has 4, 2 right (the 2 in column 0 were taken for class 0).
///
/// The checker allows for rounding: answers within about `1e-9` of the expected ones are
/// right.
pub fn per_class_accuracy(confusion: &Array2<usize>) -> Vec<Option<f64>> {
    todo!("Exercise 9.1: for each true class, the fraction predicted correctly, or None")
}

/// Exercise 9.2: top-k accuracy.
///
/// ImageNet results quote the *top-5 error*: an answer counts as right when the true
/// class is among the network's five highest scores. `scores` has one row per example
/// and one column per class, and `labels[n]` is the true class of row `n`. Return the
/// fraction of rows whose label is among the `k` largest scores of the row.
///
/// Ties: the label counts when fewer than `k` scores of its row are *strictly* larger
/// than its own. So with `k = 1` a label tied for the maximum counts, and `k = 0` counts
/// nothing, while `k` at least the number of classes counts every row.
///
/// `scores` has at least one row, `labels.len()` is its number of rows, every label is a
/// column index, and no score is NaN.
///
/// Worked example, with
/// `scores = array![[0.1, 0.5, 0.4], [0.3, 0.3, 0.2], [0.9, 0.05, 0.05]]` and
/// `labels = [2, 1, 2]`: in row 0 one score (0.5) beats the label's 0.4; in row 1 none
/// beats the label's 0.3 (the other 0.3 ties with it); in row 2 one score (0.9) beats the
/// label's 0.05 (the other 0.05 ties). So
///
/// - `top_k_accuracy(&scores, &[2, 1, 2], 1)` is `1.0 / 3.0`: only row 1 counts (even
///   though the first maximum of row 1, which `argmax` would predict, is class 0);
/// - `top_k_accuracy(&scores, &[2, 1, 2], 2)` is `1.0`, and so is `k = 3` or more;
/// - `top_k_accuracy(&scores, &[2, 1, 2], 0)` is `0.0`.
///
/// The checker allows for rounding: answers within about `1e-9` of the expected ones are
/// right.
pub fn top_k_accuracy(scores: &Array2<f32>, labels: &[usize], k: usize) -> f64 {
    todo!("Exercise 9.2: the fraction of rows whose label is among the k largest scores")
}

/// Exercise 9.3: the confusion matrix.
///
/// `predictions[n]` is the class the network predicted for example `n`, and `labels[n]`
/// the example's true class, for `classes` classes numbered from 0. Return the
/// `classes x classes` matrix whose entry `[t, p]` counts the examples of true class `t`
/// that were predicted as class `p`: rows are true classes, columns predictions, as in
/// the chapter's figure and in exercise 9.1.
///
/// - `predictions` and `labels` have the same length, and every value in them is below
///   `classes`.
/// - With no examples the matrix is all zeros; `classes` may be 0 (a `0 x 0` matrix).
///
/// Worked example: `confusion_matrix(&[0, 1, 1, 2], &[0, 1, 2, 2], 3)` is
/// `array![[1, 0, 0], [0, 1, 0], [0, 1, 1]]`: the class-2 example predicted as class 1
/// is the 1 in row 2, column 1. The entries add up to the number of examples, and the
/// diagonal to the number predicted correctly.
pub fn confusion_matrix(predictions: &[usize], labels: &[usize], classes: usize) -> Array2<usize> {
    todo!("Exercise 9.3: the classes x classes matrix of counts [true class, prediction]")
}
