//! # cnn-book
//!
//! The library behind *cnn-book*, a course that teaches convolutional neural networks
//! step by step. Every chapter of the book walks through one module here, and every
//! number in the book is computed by it.
//!
//! | chapter | module |
//! |---|---|
//! | `01-fully-connected` | [`fully_connected`] |
//! | `02-local-connectivity` | [`shape`] |
//! | `03-parameter-sharing` | [`sharing`] |
//! | `04-convolution` | [`conv1d`] |
//! | `05-conv-layer` | [`conv`] |
//! | `06-conv-as-matrix` | [`conv_matrix`], [`im2col`] |
//! | `07-pooling` | [`pool`], [`layers`] (`MaxPool2d`, `AvgPool2d`) |
//! | `08-backprop` | [`layer`], [`layers`], [`loss`], [`gradcheck`], [`init`] |
//! | `09-lenet` | [`models`], [`train`], [`optim`], [`checkpoint`], [`model`], [`data`] |
//! | `10-normalization` | [`norm`], [`selu`], [`layers`] (`BatchNorm1d`, `BatchNorm2d`, `LayerNorm`, `Selu`, `AlphaDropout`) |
//! | `11-architectures` | [`architectures`], [`model::summary`], [`layers`] (`Concat`, `Grouped`) |
//! | `12-resnet` | [`resnet`], [`layers`] (`Residual`, `GlobalAvgPool`) |
//! | `13-augmentation` | [`augment`], [`train`] (`Training::transform`) |
//! | `15-local-response-norm` | [`lrn`], [`layers`] (`LocalResponseNorm`) |
//! | `16-fast-convolution` | [`fast`]: [`fast::conv`], [`fast::direct`], [`fast::winograd`], [`fast::pool`], [`fast::batchnorm`], [`fast::elementwise`] |
//!
//! The layout says which code is the reference and which is for speed: the modules at the
//! top level are plain loops that read like the chapters' formulas; [`fast`] computes the
//! same numbers with threads and vector instructions, and every fast function is tested
//! equal to its reference. A layer's `implementation` chooses between the two.
//!
//! Shared machinery: [`error`] (the one error type, whose messages name the offending
//! values), [`tensor`] (the array type layers pass around), [`model`] (walking a model,
//! its state by name), [`records`] (results of training runs), [`data`] (IDX
//! files and the Fashion-MNIST sample), [`format`] (numbers as the book prints them),
//! [`files`] (writes that an interruption cannot cut in half), [`plot`] (SVG charts), [`raster`] (PNG images and GIF animations), [`style`] (what
//! both draw with), [`figures`] (the generator that writes the book's figures and numbers,
//! and the chapters' own diagrams).

pub mod architectures;
pub mod augment;
pub mod checkpoint;
pub mod conv;
pub mod conv1d;
pub mod conv_matrix;
pub mod data;
pub mod error;
pub mod fast;
pub mod figures;
pub mod files;
pub mod format;
pub mod fully_connected;
pub mod fuzz;
pub mod gradcheck;
pub mod im2col;
pub mod init;
pub mod layer;
pub mod layers;
pub mod loss;
pub mod lrn;
pub mod model;
pub mod models;
pub mod norm;
pub mod optim;
pub mod plot;
pub mod pool;
pub mod raster;
pub mod records;
pub mod resnet;
pub mod selu;
pub mod shape;
pub mod sharing;
pub mod style;
pub mod tensor;
pub mod train;
pub mod visualize;
pub mod your_turn;

pub use error::{Error, Result};
pub use shape::{ConvGeometry, Volume, Window};

/// The chapters' code blocks, compiled and run as doctests so the book cannot drift.
#[cfg(doctest)]
pub mod chapters {
    #[doc = include_str!("../book/01-fully-connected.md")]
    pub struct Chapter01;
    #[doc = include_str!("../book/02-local-connectivity.md")]
    pub struct Chapter02;
    #[doc = include_str!("../book/03-parameter-sharing.md")]
    pub struct Chapter03;
    #[doc = include_str!("../book/04-convolution.md")]
    pub struct Chapter04;
    #[doc = include_str!("../book/05-conv-layer.md")]
    pub struct Chapter05;
    #[doc = include_str!("../book/06-conv-as-matrix.md")]
    pub struct Chapter06;
    #[doc = include_str!("../book/07-pooling.md")]
    pub struct Chapter07;
    #[doc = include_str!("../book/08-backprop.md")]
    pub struct Chapter08;
    #[doc = include_str!("../book/09-lenet.md")]
    pub struct Chapter09;
    #[doc = include_str!("../book/10-normalization.md")]
    pub struct Chapter10;
    #[doc = include_str!("../book/11-architectures.md")]
    pub struct Chapter11;
    #[doc = include_str!("../book/12-resnet.md")]
    pub struct Chapter12;
    #[doc = include_str!("../book/13-augmentation.md")]
    pub struct Chapter13;
    #[doc = include_str!("../book/15-local-response-norm.md")]
    pub struct Chapter15;
    #[doc = include_str!("../book/16-fast-convolution.md")]
    pub struct Chapter16;
}
