//! Element-wise functions with threads and vector instructions (chapter
//! `16-fast-convolution`): what the activation layers run in their fast implementation.

use rayon::prelude::*;

use crate::tensor::Tensor;

/// `f` of every entry, split between the threads when the tensor is contiguous.
pub fn map_par(x: &Tensor, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
    match x.as_slice() {
        Some(xs) => Tensor::from_shape_vec(x.raw_dim(), xs.par_iter().map(|&v| f(v)).collect())
            .expect("same length"),
        None => x.mapv(f),
    }
}

/// `f(a, b)` of every pair of entries (same shapes), split between the threads when both
/// tensors are contiguous.
pub fn zip_map_par(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32 + Sync) -> Tensor {
    match (a.as_slice(), b.as_slice()) {
        (Some(xs), Some(ys)) => Tensor::from_shape_vec(
            a.raw_dim(),
            xs.par_iter().zip(ys).map(|(&x, &y)| f(x, y)).collect(),
        )
        .expect("same length"),
        _ => ndarray::Zip::from(a).and(b).map_collect(|&x, &y| f(x, y)),
    }
}

/// `max(0, x)` and where `x` was positive, in one pass split between the threads.
pub fn relu(x: &Tensor) -> (Tensor, ndarray::ArrayD<bool>) {
    match x.as_slice() {
        // Each thread's part is a loop the compiler vectorizes.
        Some(xs) => {
            let (y, positive): (Vec<f32>, Vec<bool>) =
                xs.par_iter().map(|&v| (v.max(0.0), v > 0.0)).unzip();
            let shape = x.raw_dim();
            (
                Tensor::from_shape_vec(shape.clone(), y).expect("same length"),
                ndarray::ArrayD::from_shape_vec(shape, positive).expect("same length"),
            )
        }
        None => (x.mapv(|v| v.max(0.0)), x.mapv(|v| v > 0.0)),
    }
}

/// `g` where `keep`, else 0, split between the threads: one branch-free loop.
pub fn mask(
    g: &Tensor,
    keep: &ndarray::ArrayD<bool>,
    f: impl Fn(f32, bool) -> f32 + Sync,
) -> Tensor {
    match (g.as_slice(), keep.as_slice()) {
        (Some(gs), Some(ks)) => Tensor::from_shape_vec(
            g.raw_dim(),
            gs.par_iter().zip(ks).map(|(&g, &k)| f(g, k)).collect(),
        )
        .expect("same length"),
        _ => ndarray::Zip::from(g)
            .and(keep)
            .map_collect(|&g, &k| f(g, k)),
    }
}

/// `tanh(x)` in `f32` by a rational function, as Eigen computes it
/// (`generic_fast_tanh_float` in `Eigen/src/Core/MathFunctionsImpl.h`; XLA and ONNX
/// Runtime use the same coefficients): `x p(x^2) / q(x^2)` with `p` of degree 6 and `q`
/// of degree 3, for `|x|` up to 7.905, beyond which `tanh` rounds to `+-1` in `f32`. Only
/// multiplications, additions and one division: the compiler vectorizes a loop of them,
/// where `f32::tanh` is a call into the math library for every number, many times
/// slower. The price is accuracy: within 5e-7 of the true value (a few units in the last
/// place near `+-1`), where `f32::tanh` is within one unit; the tests compare.
#[allow(clippy::excessive_precision)]
pub fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311_107_635_498_05;
    const P: [f32; 7] = [
        -2.760_768_477_423_55e-16,
        2.000_187_904_824_77e-13,
        -8.604_671_522_137_35e-11,
        5.122_297_090_371_14e-8,
        1.485_722_357_179_79e-5,
        6.372_619_288_754_36e-4,
        4.893_524_558_917_86e-3,
    ];
    const Q: [f32; 4] = [
        1.198_258_394_667_02e-6,
        1.185_347_056_866_54e-4,
        2.268_434_632_439_00e-3,
        4.893_525_185_543_85e-3,
    ];
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let p = P.iter().fold(0.0, |acc, &c| acc * x2 + c);
    let q = Q.iter().fold(0.0, |acc, &c| acc * x2 + c);
    x * p / q
}
