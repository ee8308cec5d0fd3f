//! Speed (chapter `16-fast-convolution`): the same numbers as the reference modules, with
//! threads, vector instructions and reused buffers. Every function here is tested equal to
//! the reference it replaces; the layers run these unless told to run the reference.
//!
//! | here | reference |
//! |---|---|
//! | [`conv`] (im2col + GEMM per image, threads), [`direct`] and [`winograd`] (kernels over the vectors of [`simd`]: AVX-512, AVX2, portable) | [`crate::conv`], [`crate::im2col`] |
//! | [`pool`] | [`crate::pool`] |
//! | [`batchnorm`] | [`crate::norm`] |
//! | [`elementwise`] (activations) | the activation layers' plain maps |
//! | [`lrn`] | [`crate::lrn`] |

pub mod batchnorm;
pub mod conv;
pub mod direct;
pub mod elementwise;
pub mod lrn;
pub mod pool;
pub mod simd;
pub mod winograd;
