//! Reference solutions for chapter 9. Try the exercises in `exercises/src/` first.

use ndarray::Array2;

/// Exercise 9.1: for each true class, the fraction predicted correctly, or None.
pub fn per_class_accuracy(confusion: &Array2<usize>) -> Vec<Option<f64>> {
    confusion
        .rows()
        .into_iter()
        .enumerate()
        .map(|(class, row)| {
            let examples: usize = row.sum();
            (examples > 0).then(|| row[class] as f64 / examples as f64)
        })
        .collect()
}

/// Exercise 9.2: the fraction of rows whose label is among the k largest scores.
pub fn top_k_accuracy(scores: &Array2<f32>, labels: &[usize], k: usize) -> f64 {
    let hits = scores
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, &label)| {
            let own = row[label];
            // The label's rank: how many scores beat it strictly.
            let better = row.iter().filter(|&&score| score > own).count();
            better < k
        })
        .count();
    hits as f64 / labels.len() as f64
}

/// Exercise 9.3: the classes x classes matrix of counts [true class, prediction].
pub fn confusion_matrix(predictions: &[usize], labels: &[usize], classes: usize) -> Array2<usize> {
    let mut matrix = Array2::zeros((classes, classes));
    for (&predicted, &label) in predictions.iter().zip(labels) {
        matrix[[label, predicted]] += 1; // row: the true class
    }
    matrix
}
