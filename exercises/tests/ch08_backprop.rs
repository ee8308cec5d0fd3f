//! Checkers for chapter 8: compare the exercises with the layers of `cnn_book::layers`
//! and with `cnn_book::conv::conv2d_backward_naive`.

mod common;

use cnn_book::conv::{conv2d_backward_naive, Conv2dConfig};
use cnn_book::layer::{Layer, Mode, Tensor};
use cnn_book::layers::Relu;
use cnn_book_exercises::ch08_backprop::{
    conv_weight_gradient, leaky_relu, leaky_relu_backward, linear_backward,
};
use common::{array_code, random_array, Checker, Rng};
use ndarray::{array, Array1, Array2, Ix1, Ix2};

const FILE: &str = "exercises/src/ch08_backprop.rs";

/// Sums of products of random floats are allowed this much rounding (relative to the
/// larger of 1 and the entries' size); small integers are compared exactly.
const FLOAT_TOLERANCE: f64 = 1e-4;

/// One product or copy per entry (the leaky ReLU and its backward pass): rounding only.
const ELEMENTWISE_TOLERANCE: f64 = 1e-6;

/// A tensor returned by a layer, back as `(N, D)`.
fn as_2d(tensor: Tensor) -> Array2<f32> {
    tensor
        .into_dimensionality::<Ix2>()
        .expect("the layer keeps (N, D) vectors 2D")
}

/// Slopes of the leaky ReLU: 0 (the plain ReLU, checked against the library's layer),
/// common choices, and some close to 1.
const SLOPES: [f32; 8] = [0.0, 0.01, 0.1, 0.2, 0.25, 0.5, 0.9, 0.99];

/// The inputs of the leaky ReLU checkers, with their slopes: the worked examples (first,
/// with slopes 0.25 and 0), values at and very near the kink, every small shape (empty
/// ones included) with small integers (many exact zeros) and with floats, and larger
/// random batches.
fn leaky_relu_inputs() -> Vec<(Array2<f32>, f32)> {
    let example = array![[-2.0, 0.0, 3.0], [0.5, -1.0, -4.0]];
    let mut inputs = vec![
        (example.clone(), 0.25),
        (example, 0.0),
        (array![[1e-7, -1e-7, 0.0, -0.0]], 0.1),
        (array![[1e-30, -1e-30], [1e6, -1e6]], 0.5),
    ];
    let mut rng = Rng::new(81);
    for rows in 0..=4 {
        for columns in 0..=4 {
            for slope in SLOPES {
                for integers in [true, false] {
                    if rows * columns == 0 && !integers {
                        continue; // no entries: the same input as with integers
                    }
                    inputs.push((random_array(&mut rng, rows, columns, integers), slope));
                }
            }
        }
    }
    for _ in 0..600 {
        let slope = if rng.chance(1, 2) {
            rng.pick(&SLOPES)
        } else {
            rng.float(0.0, 1.0) as f32
        };
        let (rows, columns) = (rng.size(1, 16), rng.size(1, 16));
        let integers = rng.chance(1, 4);
        inputs.push((random_array(&mut rng, rows, columns, integers), slope));
    }
    inputs
}

/// The leaky ReLU in `f64`, the formula of exercise 8.1.
fn leaky(v: f64, slope: f64) -> f64 {
    if v > 0.0 {
        v
    } else {
        slope * v
    }
}

#[test]
fn exercise_8_1_leaky_relu() {
    let mut checker = Checker::new(
        "8.1",
        "leaky_relu",
        FILE,
        "element by element: keep x where x > 0 and multiply it by slope elsewhere \
         (max(x, slope * x) for 0 <= slope < 1). With slope 0 this is the ReLU, max(x, 0). \
         The output has the shape of x.",
    );
    let mut relu = Relu::new();
    for (x, slope) in leaky_relu_inputs() {
        // Slope 0: the library's ReLU layer. Other slopes: the formula.
        let expected = if slope == 0.0 {
            as_2d(
                relu.forward(&x.clone().into_dyn(), Mode::Train)
                    .expect("ReLU takes any shape"),
            )
        } else {
            x.mapv(|v| leaky(v as f64, slope as f64) as f32)
        };
        checker.check_close(
            || format!("leaky_relu(&{}, {slope:?})", array_code(&x)),
            expected,
            || leaky_relu(&x, slope),
            ELEMENTWISE_TOLERANCE,
        );
    }
    checker.finish();
}

/// The derivative of the leaky ReLU at `v`, by central finite differences in `f64` when
/// `v` is far enough from the kink at 0 that neither side crosses it, and by the rule of
/// exercise 8.2 (1 for `v > 0`, `slope` otherwise) at and next to the kink.
fn leaky_derivative(v: f64, slope: f64) -> f64 {
    let step = 1e-3;
    if v.abs() > 2.0 * step {
        (leaky(v + step, slope) - leaky(v - step, slope)) / (2.0 * step)
    } else if v > 0.0 {
        1.0
    } else {
        slope
    }
}

#[test]
fn exercise_8_2_leaky_relu_backward() {
    let mut checker = Checker::new(
        "8.2",
        "leaky_relu_backward",
        FILE,
        "element by element: differentiate the leaky ReLU on the side of 0 where the \
         forward input x lies, and scale grad by that slope. Decide with the input x, not \
         with grad, and at x = 0 exactly use the negative side (like the ReLU, which \
         passes nothing back at 0).",
    );
    let mut rng = Rng::new(82);
    for (index, (x, slope)) in leaky_relu_inputs().into_iter().enumerate() {
        let (rows, columns) = x.dim();
        // The worked examples (the first two inputs) with their gradient, then random ones.
        let grad = if index < 2 {
            array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
        } else {
            let integers = rng.chance(1, 2);
            random_array(&mut rng, rows, columns, integers)
        };
        // Slope 0: the library's ReLU layer, forward then backward. Other slopes: finite
        // differences away from the kink, the rule at it.
        let expected = if slope == 0.0 {
            let mut relu = Relu::new();
            relu.forward(&x.clone().into_dyn(), Mode::Train)
                .expect("ReLU takes any shape");
            as_2d(
                relu.backward(&grad.clone().into_dyn())
                    .expect("the gradient has the output's shape"),
            )
        } else {
            ndarray::Zip::from(&x)
                .and(&grad)
                .map_collect(|&v, &g| (g as f64 * leaky_derivative(v as f64, slope as f64)) as f32)
        };
        checker.check_close(
            || {
                format!(
                    "leaky_relu_backward(&{}, &{}, {slope:?})",
                    array_code(&x),
                    array_code(&grad)
                )
            },
            expected,
            || leaky_relu_backward(&x, &grad, slope),
            ELEMENTWISE_TOLERANCE,
        );
    }
    checker.finish();
}

/// The library's answer to exercise 8.3, from its `Linear` layer.
///
/// A `Linear` can only be made with a random generator from the `rand` crate, which the
/// exercises do not depend on; `cnn_book::models::lenet` makes some with its own. The
/// checker takes one of them and replaces its parameters (public through the `Layer`
/// trait) by `w` and a bias of the right size, whatever the shapes: the layer reads its
/// sizes from its weight. Then forward, backward, and the gradients left in the
/// parameters.
struct LibraryLinear(Box<dyn Layer>);

impl LibraryLinear {
    fn new() -> Self {
        let layer = cnn_book::models::lenet(0)
            .into_layers()
            .into_iter()
            .find(|layer| layer.name().starts_with("Linear"))
            .expect("LeNet has fully connected layers");
        LibraryLinear(layer)
    }

    fn backward(
        &mut self,
        x: &Array2<f32>,
        w: &Array2<f32>,
        grad: &Array2<f32>,
    ) -> (Array2<f32>, Array2<f32>, Array1<f32>) {
        let d_out = w.nrows();
        for param in self.0.params_mut() {
            match param.name.as_str() {
                "weight" => param.value = w.clone().into_dyn(),
                // Any bias: it changes the output, not the gradients.
                "bias" => param.value = Array1::from_elem(d_out, 0.5).into_dyn(),
                other => panic!("checker bug: Linear has an unexpected parameter {other}"),
            }
            param.grad = Tensor::zeros(param.value.raw_dim());
        }
        self.0
            .forward(&x.clone().into_dyn(), Mode::Train)
            .expect("x has D_in columns");
        let dx = as_2d(
            self.0
                .backward(&grad.clone().into_dyn())
                .expect("grad has the output's shape"),
        );
        let params = self.0.params();
        let dw = as_2d(params[0].grad.clone());
        let db = params[1]
            .grad
            .clone()
            .into_dimensionality::<Ix1>()
            .expect("the bias is 1D");
        (dx, dw, db)
    }
}

#[test]
fn exercise_8_3_linear_backward() {
    let mut checker = Checker::new(
        "8.3",
        "linear_backward",
        FILE,
        "the tuple is (dL/dx, dL/dw, dL/db), named .0, .1, .2 above, of shapes (N, D_in), \
         (D_out, D_in) like w (not its transpose) and D_out. Write the chain rule for one \
         example and one entry first (which outputs does x[n][i] reach, through which \
         weights?), then collect the sums as matrix products. The parameters' gradients \
         add up every example's contribution: a sum over the batch, not a mean.",
    );
    let mut library = LibraryLinear::new();
    let check = |checker: &mut Checker,
                 library: &mut LibraryLinear,
                 x: Array2<f32>,
                 w: Array2<f32>,
                 grad: Array2<f32>,
                 tolerance: f64| {
        checker.check_close(
            || {
                format!(
                    "linear_backward(&{}, &{}, &{})",
                    array_code(&x),
                    array_code(&w),
                    array_code(&grad)
                )
            },
            library.backward(&x, &w, &grad),
            || linear_backward(&x, &w, &grad),
            tolerance,
        );
    };
    check(
        &mut checker,
        &mut library,
        array![[1.0, 2.0]],
        array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        array![[1.0, 2.0, 3.0]],
        0.0,
    );
    check(
        &mut checker,
        &mut library,
        array![[1.0, 2.0], [3.0, 4.0]],
        array![[1.0, -1.0]],
        array![[1.0], [2.0]],
        0.0,
    );

    // Every small shape, empty batches and layers included, with small integers: exact.
    let mut rng = Rng::new(83);
    for n in 0..=5 {
        for d_in in 0..=5 {
            for d_out in 0..=5 {
                // Two random draws, or one when all three arrays are empty anyway.
                let empty = n * d_in == 0 && d_out * d_in == 0 && n * d_out == 0;
                for _ in 0..if empty { 1 } else { 2 } {
                    let x = random_array(&mut rng, n, d_in, true);
                    let w = random_array(&mut rng, d_out, d_in, true);
                    let grad = random_array(&mut rng, n, d_out, true);
                    check(&mut checker, &mut library, x, w, grad, 0.0);
                }
            }
        }
    }
    // Random floats on larger shapes.
    for _ in 0..1000 {
        let (n, d_in, d_out) = (rng.size(1, 12), rng.size(1, 20), rng.size(1, 12));
        let x = random_array(&mut rng, n, d_in, false);
        let w = random_array(&mut rng, d_out, d_in, false);
        let grad = random_array(&mut rng, n, d_out, false);
        check(&mut checker, &mut library, x, w, grad, FLOAT_TOLERANCE);
    }
    checker.finish();
}

/// The library's answer to exercise 8.4: the weight gradient of its reference convolution
/// backward pass, with one image, one channel and one filter (stride 1, no padding). The
/// filter's values do not change its own gradient; any will do.
fn library_conv_weight_gradient(x: &Array2<f32>, grad: &Array2<f32>, field: usize) -> Array2<f32> {
    let x4 = x
        .view()
        .insert_axis(ndarray::Axis(0))
        .insert_axis(ndarray::Axis(0));
    let grad4 = grad
        .view()
        .insert_axis(ndarray::Axis(0))
        .insert_axis(ndarray::Axis(0));
    let kernel = ndarray::Array4::from_elem((1, 1, field, field), 1.0f32);
    let grads = conv2d_backward_naive(x4, kernel.view(), grad4, Conv2dConfig::default())
        .expect("the checker passes a grad of the output's shape");
    grads
        .weight
        .into_shape_with_order((field, field))
        .expect("one filter, one channel")
}

#[test]
fn exercise_8_4_conv_weight_gradient() {
    let mut checker = Checker::new(
        "8.4",
        "conv_weight_gradient",
        FILE,
        "weight (u, v) is used at every output position, each time on another input: \
         collect one contribution from every use, as the chapter's worked example does \
         for its centre weight (nothing is flipped). The answer is field x field; grad is \
         (H - field + 1) x (W - field + 1), and x may be wider than it is tall.",
    );
    let check =
        |checker: &mut Checker, x: Array2<f32>, grad: Array2<f32>, field: usize, tolerance: f64| {
            checker.check_close(
                || {
                    format!(
                        "conv_weight_gradient(&{}, &{}, {field})",
                        array_code(&x),
                        array_code(&grad)
                    )
                },
                library_conv_weight_gradient(&x, &grad, field),
                || conv_weight_gradient(&x, &grad, field),
                tolerance,
            );
        };
    let ramp = Array2::from_shape_fn((4, 4), |(r, c)| (4 * r + c) as f32);
    check(&mut checker, ramp.clone(), Array2::ones((2, 2)), 3, 0.0);
    check(&mut checker, ramp, array![[1.0, 2.0], [3.0, 4.0]], 3, 0.0);

    // Every small image and field, with small integers: exact.
    let mut rng = Rng::new(84);
    for height in 1..=7 {
        for width in 1..=7 {
            for field in 1..=height.min(width) {
                for _ in 0..3 {
                    let x = random_array(&mut rng, height, width, true);
                    let grad = random_array(&mut rng, height - field + 1, width - field + 1, true);
                    check(&mut checker, x, grad, field, 0.0);
                }
            }
        }
    }
    // Random floats on larger images.
    for _ in 0..1000 {
        let (height, width) = (rng.size(1, 16), rng.size(1, 16));
        let field = rng.size(1, height.min(width).min(6));
        let x = random_array(&mut rng, height, width, false);
        let grad = random_array(&mut rng, height - field + 1, width - field + 1, false);
        check(&mut checker, x, grad, field, FLOAT_TOLERANCE);
    }
    checker.finish();
}
