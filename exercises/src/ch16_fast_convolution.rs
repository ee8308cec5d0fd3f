//! Exercises for chapter 16, *Fast convolution*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch16_fast_convolution
//! ```
//!
//! The chapter makes a convolution fast without changing what it computes: the same
//! sums, reorganised for the caches and the vector units. These exercises build four of
//! its pieces: a blocked matrix product, a patch matrix copied by whole shifted rows, the
//! FLOP count that turns a measured time into a fraction of the machine's peak, and one
//! tile of Winograd's algorithm, which gets the same sums from fewer multiplications.
//! Matrices are `ndarray::Array2<f32>`, indexed `[row, column]`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array2;

/// Exercise 16.1: a blocked matrix product.
///
/// Return `C = A B` for `a` (`m x k`) and `b` (`k x n`), computed block by block: split the
/// rows of `C` into bands of `block` rows, its columns into bands of `block` columns, and
/// the shared dimension `k` into bands of `block`; finish each `block x block` tile of `C`
/// (adding the products of one band of `A` with one band of `B` at a time) before starting
/// the next. The last band of each dimension may be shorter. The result is the ordinary
/// product: `C[i][j] = sum over p of A[i][p] * B[p][j]`.
///
/// Return `None` when `block` is 0 or the shapes do not fit (`a.ncols() != b.nrows()`).
/// Empty matrices are fine: a `0 x 3` times `3 x 2` product is an empty `0 x 2` matrix, and
/// a `2 x 0` times `0 x 3` product is a `2 x 3` matrix of zeros.
///
/// Worked examples:
///
/// - `blocked_matmul(&array![[1.0, 2.0], [3.0, 4.0]], &array![[5.0, 6.0], [7.0, 8.0]], 1)`
///   is `Some(array![[19.0, 22.0], [43.0, 50.0]])`, and the same for any `block >= 1`.
/// - `blocked_matmul(&array![[1.0, 2.0, 3.0]], &array![[1.0], [1.0], [1.0]], 2)` is
///   `Some(array![[6.0]])`: the shared dimension 3 is split into bands of 2 and 1.
/// - `blocked_matmul(&array![[1.0, 2.0]], &array![[1.0, 2.0]], 4)` is `None` (`1 x 2`
///   times `1 x 2`), and so is any product with `block = 0`.
///
/// The checker compares with ndarray's `a.dot(&b)` up to rounding (a different summation
/// order may change the last bits).
pub fn blocked_matmul(a: &Array2<f32>, b: &Array2<f32>, block: usize) -> Option<Array2<f32>> {
    todo!("Exercise 16.1: A B, tile by tile, or None")
}

/// Exercise 16.2: the patch matrix of a "same" convolution, by shifted rows.
///
/// For an odd `field` `F` and padding `P = (F - 1) / 2`, stride 1, the output of a
/// convolution on an `H x W` image is again `H x W`. Its patch matrix, laid out as in
/// chapter 6, has `F * F` rows, one per kernel tap `(u, v)` in reading order, and `H * W`
/// columns, one per output `(i, j)` in reading order; each entry is the pixel that the tap
/// reads for that output, or 0 where it reads the padding.
///
/// As chapter 16 shows, row `(u, v)` is the image shifted by `u - P` rows and `v - P`
/// columns: build it with one long copy of the image (row by row, flattened) and then set
/// to zero the entries whose source lies outside the image (whole image rows at the top or
/// bottom, a few columns at the left or right of every row), rather than testing every
/// entry.
///
/// Return `None` when `field` is 0 or even, or when the image is empty.
///
/// Worked examples, with the `3 x 3` image `x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]`:
///
/// - `im2col_same(&x, 1)` is `Some` of the `1 x 9` matrix `[[1, 2, 3, 4, 5, 6, 7, 8, 9]]`.
/// - `im2col_same(&x, 3)` is `Some` of a `9 x 9` matrix whose row 4 (the centre tap) is
///   the image itself, `1 .. 9`, and whose row 0 (tap `(0, 0)`, up and to the left) is
///   `[0, 0, 0, 0, 1, 2, 0, 4, 5]`: the image shifted down and right, with zeros for the
///   top row and the left column.
/// - `im2col_same(&x, 2)` and `im2col_same(&x, 0)` are `None`.
///
/// The entries are copies of the image's values, so the checker compares them exactly.
pub fn im2col_same(image: &Array2<f32>, field: usize) -> Option<Array2<f32>> {
    todo!("Exercise 16.2: the (F*F x H*W) patch matrix by shifted rows, or None")
}

/// Exercise 16.3: the floating-point operations of one training step of a layer.
///
/// A convolution layer with `filters` filters of `field x field`, `padding` and `stride`
/// on a batch `input = (N, C, H, W)` computes `N * K * H' * W'` outputs, each a sum of
/// `C * F * F` products (padding zeros included, as the GEMM computes them). Count a
/// multiply-add as two FLOPs. The backward pass computes the weight gradient (as many
/// multiply-adds as the forward pass) and, when `input_gradient` is true, the input
/// gradient (as many again). Return the FLOPs of forward plus backward.
///
/// Return `None` when the window does not tile the input (`field` or `stride` is 0, the
/// field is larger than the padded input, or `H - F + 2P` or `W - F + 2P` is not a multiple
/// of `S`) and when the count does not fit in a `u64`. An empty batch (`N = 0`) does no
/// work: `Some(0)` when the window tiles.
///
/// Worked examples:
///
/// - `conv_flops((64, 32, 28, 28), 32, 3, 1, 1, true)` is
///   `Some(2_774_532_096)`: `64 * 32 * 28 * 28` outputs times `32 * 9` multiply-adds is
///   462,422,016 multiply-adds forward, times 2 FLOPs, times 3 passes.
/// - `conv_flops((64, 1, 28, 28), 6, 5, 2, 1, false)` is `Some(30_105_600)`: LeNet's first
///   layer, 7,526,400 multiply-adds forward, times 2 FLOPs, times 2 passes (forward and
///   weight gradient; nobody needs the gradient of the images).
/// - `conv_flops((1, 1, 4, 4), 1, 3, 0, 2, true)` is `None`: `(4 - 3) / 2` is not whole.
pub fn conv_flops(
    input: (usize, usize, usize, usize),
    filters: usize,
    field: usize,
    padding: usize,
    stride: usize,
    input_gradient: bool,
) -> Option<u64> {
    todo!("Exercise 16.3: FLOPs of forward + backward, or None")
}

/// Exercise 16.4, step 1 of 3: Winograd's filter transform.
///
/// Chapter 16's step 5 computes a 2 x 2 tile of a 3 x 3 correlation with Winograd's
/// F(2 x 2, 3 x 3) in three steps: the filter `g` and the 4 x 4 input patch `d` are each
/// transformed into a 4 x 4 matrix, `U` from `g` and `V` from `d`; the two are multiplied
/// entry by entry (the 16 multiplications that replace 36); and the output transform
/// turns the product into the 2 x 2 tile. Each step is an exercise of its own, checked on
/// its own, so that a mistake is found in the step that makes it.
///
/// Here: return `U`, the transformed 3 x 3 filter `g`, with the chapter's matrices, or
/// `None` unless `g` is 3 x 3.
///
/// Worked example: the filter that only keeps the centre (`g[1][1] = 1`, all else 0)
/// becomes
///
/// ```text
/// [[0,  0,     0,    0],
///  [0,  0.25, -0.25, 0],
///  [0, -0.25,  0.25, 0],
///  [0,  0,     0,    0]]
/// ```
pub fn winograd_filter(g: &Array2<f32>) -> Option<Array2<f32>> {
    todo!("Exercise 16.4, step 1: the filter transform U of g, or None")
}

/// Exercise 16.4, step 2 of 3: Winograd's input transform.
///
/// Return `V`, the transformed 4 x 4 input patch `d` of chapter 16's F(2 x 2, 3 x 3) (see
/// step 1), or `None` unless `d` is 4 x 4.
///
/// Worked examples:
///
/// - A patch with a single 1 at `d[0][0]` is its own transform.
/// - A patch with a single 1 at `d[1][1]` becomes
///   `[[0, 0, 0, 0], [0, 1, -1, 1], [0, -1, 1, -1], [0, 1, -1, 1]]`.
pub fn winograd_input(d: &Array2<f32>) -> Option<Array2<f32>> {
    todo!("Exercise 16.4, step 2: the input transform V of d, or None")
}

/// Exercise 16.4, step 3 of 3: the product and Winograd's output transform.
///
/// Given the transformed filter `u` (step 1) and the transformed patch `v` (step 2),
/// return the 2 x 2 tile of the correlation: multiply `u` and `v` entry by entry, then
/// apply chapter 16's output transform. Return `None` unless both are 4 x 4.
///
/// Worked example: with `u` and `v` all ones, the tile is `[[9, -3], [-3, 1]]`.
///
/// Together, the three steps compute the correlation: [`winograd_tile`] (given, not an
/// exercise) chains them, and its result may differ from the direct sums in the last bits.
pub fn winograd_output(u: &Array2<f32>, v: &Array2<f32>) -> Option<Array2<f32>> {
    todo!("Exercise 16.4, step 3: the 2 x 2 tile from U and V, or None")
}

/// The 2 x 2 correlation of the 4 x 4 patch `d` with the 3 x 3 filter `g` through the three
/// steps of exercise 16.4 (not an exercise itself: it works once they do).
///
/// - With `g` all zeros except `g[1][1] = 1`, the tile is the centre of `d`.
/// - With `d[i][j] = i + j` and `g` all ones, it is `[[18, 27], [27, 36]]`.
pub fn winograd_tile(d: &Array2<f32>, g: &Array2<f32>) -> Option<Array2<f32>> {
    winograd_output(&winograd_filter(g)?, &winograd_input(d)?)
}
