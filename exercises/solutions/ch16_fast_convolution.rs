//! Reference solutions for chapter 16 (see `exercises/src/ch16_fast_convolution.rs` for
//! the exercises). Used by CI with `--features solutions` to prove the checkers right.

use ndarray::{array, Array2};

/// Exercise 16.1: a blocked matrix product.
pub fn blocked_matmul(a: &Array2<f32>, b: &Array2<f32>, block: usize) -> Option<Array2<f32>> {
    if block == 0 || a.ncols() != b.nrows() {
        return None;
    }
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let mut c = Array2::<f32>::zeros((m, n));
    for i0 in (0..m).step_by(block) {
        for j0 in (0..n).step_by(block) {
            // One tile of C, finished before the next: its inputs stay in the cache.
            for p0 in (0..k).step_by(block) {
                for i in i0..(i0 + block).min(m) {
                    for p in p0..(p0 + block).min(k) {
                        let a_ip = a[[i, p]];
                        for j in j0..(j0 + block).min(n) {
                            c[[i, j]] += a_ip * b[[p, j]];
                        }
                    }
                }
            }
        }
    }
    Some(c)
}

/// Exercise 16.2: the patch matrix of a "same" convolution, by shifted rows.
pub fn im2col_same(image: &Array2<f32>, field: usize) -> Option<Array2<f32>> {
    let (h, w) = image.dim();
    if field == 0 || field % 2 == 0 || h == 0 || w == 0 {
        return None;
    }
    let p = (field - 1) / 2;
    let flat: Vec<f32> = image.iter().copied().collect();
    let len = (h * w) as isize;
    let mut patches = Array2::<f32>::zeros((field * field, h * w));
    for u in 0..field {
        for v in 0..field {
            let mut row = patches.row_mut(u * field + v);
            let row = row.as_slice_mut().expect("a row of a standard matrix");
            // Output (i, j) reads input (i + u - p, j + v - p): in the flattened image, a
            // shift of (u - p) rows and (v - p) columns. One long copy of the overlap...
            let shift = (u as isize - p as isize) * w as isize + (v as isize - p as isize);
            let (start, end) = ((-shift).max(0), (len - shift).min(len));
            if start < end {
                let (start, end) = (start as usize, end as usize);
                let from = (start as isize + shift) as usize;
                row[start..end].copy_from_slice(&flat[from..from + (end - start)]);
            }
            // ...then zeros where the source is outside the image: whole rows at the top
            // or bottom, and a few columns of every row that the shift wrapped around.
            let top = p.saturating_sub(u).min(h);
            let bottom = (h + p).saturating_sub(u).clamp(top, h);
            row[..top * w].fill(0.0);
            row[bottom * w..].fill(0.0);
            let left = p.saturating_sub(v).min(w);
            let right = (w + p).saturating_sub(v).clamp(left, w);
            for i in top..bottom {
                row[i * w..i * w + left].fill(0.0);
                row[i * w + right..(i + 1) * w].fill(0.0);
            }
        }
    }
    Some(patches)
}

/// Exercise 16.3: the floating-point operations of one training step of a layer.
pub fn conv_flops(
    input: (usize, usize, usize, usize),
    filters: usize,
    field: usize,
    padding: usize,
    stride: usize,
    input_gradient: bool,
) -> Option<u64> {
    let (n, c, h, w) = input;
    let side = |size: usize| -> Option<usize> {
        if field == 0 || stride == 0 || field > size + 2 * padding {
            return None;
        }
        let travel = size + 2 * padding - field;
        (travel % stride == 0).then_some(travel / stride + 1)
    };
    let (oh, ow) = (side(h)?, side(w)?);
    let passes: u64 = if input_gradient { 3 } else { 2 };
    [n, filters, oh, ow, c, field, field]
        .iter()
        .try_fold(2 * passes, |acc, &x| acc.checked_mul(x as u64))
}

/// F(2 x 2, 3 x 3)'s `B^T`, `G` and `A^T` (chapter 16, step 5).
fn winograd_matrices() -> (Array2<f32>, Array2<f32>, Array2<f32>) {
    let bt = array![
        [1.0, 0.0, -1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0],
        [0.0, -1.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, -1.0]
    ];
    let g = array![
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0.0, 0.0, 1.0]
    ];
    let at = array![[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];
    (bt, g, at)
}

pub fn winograd_filter(g: &Array2<f32>) -> Option<Array2<f32>> {
    if g.dim() != (3, 3) {
        return None;
    }
    let (_, gm, _) = winograd_matrices();
    Some(gm.dot(g).dot(&gm.t()))
}

pub fn winograd_input(d: &Array2<f32>) -> Option<Array2<f32>> {
    if d.dim() != (4, 4) {
        return None;
    }
    let (bt, _, _) = winograd_matrices();
    Some(bt.dot(d).dot(&bt.t()))
}

pub fn winograd_output(u: &Array2<f32>, v: &Array2<f32>) -> Option<Array2<f32>> {
    if u.dim() != (4, 4) || v.dim() != (4, 4) {
        return None;
    }
    let (_, _, at) = winograd_matrices();
    Some(at.dot(&(u * v)).dot(&at.t()))
}

pub fn winograd_tile(d: &Array2<f32>, g: &Array2<f32>) -> Option<Array2<f32>> {
    winograd_output(&winograd_filter(g)?, &winograd_input(d)?)
}
