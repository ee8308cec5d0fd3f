//! Data: the IDX format and the Fashion-MNIST images the book uses.

pub mod fashion_mnist;
pub mod idx;
