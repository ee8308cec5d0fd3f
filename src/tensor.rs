//! The array type that layers pass to each other, and zero-filled arrays written by all
//! threads. It sits below everything else: plain functions, fast kernels and layers all
//! use it, and it uses none of them.

use ndarray::ArrayD;

/// A batch of activations or gradients of any rank, batch first: `(N, C, H, W)` for
/// images, `(N, D)` for vectors.
pub type Tensor = ArrayD<f32>;

/// A zero-filled tensor whose zeros are written by all threads: a batch of activations is
/// megabytes, and one thread writing them while the others wait costs a few percent of a
/// layer's time on two cores.
pub fn zeros_par(shape: &[usize]) -> Tensor {
    use rayon::prelude::*;
    let len = shape.iter().product();
    let zeros: Vec<f32> = (0..len).into_par_iter().map(|_| 0.0).collect();
    Tensor::from_shape_vec(shape, zeros).expect("length matches the shape")
}

/// [`zeros_par`] with four axes.
pub fn zeros4_par(shape: (usize, usize, usize, usize)) -> ndarray::Array4<f32> {
    zeros_par(&[shape.0, shape.1, shape.2, shape.3])
        .into_dimensionality()
        .expect("four axes")
}
