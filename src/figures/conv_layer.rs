//! Figures and numbers of chapter `05-conv-layer`.

use ndarray::{array, s, Array3, Array4};

use super::{GenResult, Writer};
use crate::conv::{classic_filters, conv2d_naive, conv2d_single, Conv2dConfig};
use crate::data::fashion_mnist::{sample, CLASS_NAMES};
use crate::raster::{conv_animation, image_grid, Panel, Shading};

/// The slides' first demo: a 5x5 binary image and the 3x3 "X" filter.
pub fn demo_one() -> (Array3<f32>, Array4<f32>) {
    let image = array![
        [1., 1., 1., 0., 0.],
        [0., 1., 1., 1., 0.],
        [0., 0., 1., 1., 1.],
        [0., 0., 1., 1., 0.],
        [0., 1., 1., 0., 0.]
    ];
    let filter = array![[1., 0., 1.], [0., 1., 0.], [1., 0., 1.]];
    (
        image.into_shape_with_order((1, 5, 5)).expect("5x5"),
        filter.into_shape_with_order((1, 1, 3, 3)).expect("3x3"),
    )
}

/// The second demo: 3 channels of 5x5 and 2 filters of 3x3x3 with biases 1 and 0.
pub fn demo_two() -> (Array3<f32>, Array4<f32>, [f32; 2]) {
    let x = Array3::from_shape_fn((3, 5, 5), |(c, r, q)| ((c + 2 * r + q) % 3) as f32);
    let w = Array4::from_shape_fn((2, 3, 3, 3), |(k, c, u, v)| {
        ((k + c + 2 * u + v) % 3) as f32 - 1.
    });
    (x, w, [1., 0.])
}

/// An output map as a Markdown table, rows labelled `i`, columns `j`.
fn matrix_table(m: ndarray::ArrayView2<f32>) -> String {
    let header: Vec<String> = std::iter::once(String::new())
        .chain((0..m.ncols()).map(|j| format!("j = {j}")))
        .collect();
    let rows: Vec<Vec<String>> = m
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            std::iter::once(format!("**i = {i}**"))
                .chain(row.iter().map(|v| v.to_string()))
                .collect()
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    super::markdown_table(&header, &rows)
}

pub fn generate(w: &mut Writer) -> GenResult {
    let (image, filter) = demo_one();
    let gif = conv_animation(image.view(), filter.view(), &[0.0], Conv2dConfig::default())?;
    w.figure_bytes(
        "demo-one-channel.gif",
        &gif.0,
        "the slides' 5x5 image and 3x3 filter, S = 1, P = 0",
    )?;
    let y = conv2d_single(
        image.slice(s![0, .., ..]),
        filter.slice(s![0, 0, .., ..]),
        Conv2dConfig::default(),
    )?;
    w.snippet("demo-one-output.md", &matrix_table(y.view()), "demo one")?;

    let (x, wt, b) = demo_two();
    let config = Conv2dConfig::new(2, 1);
    let gif = conv_animation(x.view(), wt.view(), &b, config)?;
    w.figure_bytes(
        "demo-three-channels.gif",
        &gif.0,
        "x = (c + 2r + q) mod 3, w = ((k + c + 2u + v) mod 3) - 1, b = (1, 0), S = 2, P = 1",
    )?;
    let x4 = x.clone().into_shape_with_order((1, 3, 5, 5))?;
    let bias = ndarray::Array1::from(b.to_vec());
    let y = conv2d_naive(x4.view(), wt.view(), Some(bias.view()), config)?;
    for k in 0..2 {
        w.snippet(
            &format!("demo-two-output-{k}.md"),
            &matrix_table(y.slice(s![0, k, .., ..])),
            "demo two",
        )?;
    }
    w.number(
        "demo_two_output",
        format!("{}x{}x{}", y.dim().2, y.dim().3, y.dim().1),
        format!("{:?}", y.dim()),
    );

    // Stride 2 and padding 1 on one channel: a 7x7 input, edge filter.
    let ramp = Array3::from_shape_fn((1, 7, 7), |(_, r, q)| {
        // A vertical edge between columns 2 and 3, on a faint horizontal stripe pattern.
        (if q >= 3 { 2.0 } else { 0.0 }) + (r % 2) as f32
    });
    let edge =
        array![[-1., 0., 1.], [-1., 0., 1.], [-1., 0., 1.]].into_shape_with_order((1, 1, 3, 3))?;
    let gif = conv_animation(ramp.view(), edge.view(), &[0.0], config)?;
    w.figure_bytes(
        "stride2-padding1.gif",
        &gif.0,
        "7x7 input with a vertical edge after column 2 plus (r mod 2), vertical-edge filter, S = 2, P = 1",
    )?;

    // Classic filters on real Fashion-MNIST images: the first test image of four classes.
    let data = sample();
    let classes = [9u8, 1, 0, 8];
    let filters = classic_filters();
    let same = Conv2dConfig::new(1, 1);
    let mut panels = Vec::new();
    for class in classes {
        let index = data
            .labels
            .iter()
            .position(|&l| l == class)
            .ok_or_else(|| crate::Error::Invalid("class missing from the sample".into()))?;
        let img = data.image(index);
        for (name, kernel) in filters.iter() {
            let (title, out, shading) = if *name == "identity" {
                (
                    format!("{} (#{index})", CLASS_NAMES[class as usize]),
                    img.clone(),
                    Shading::Grey,
                )
            } else {
                let out = conv2d_single(img.view(), kernel.view(), same)?;
                let shading = if name.contains("blur") || name.contains("sharpen") {
                    Shading::Grey
                } else {
                    Shading::Signed
                };
                (
                    name.split(" (").next().unwrap_or(name).to_string(),
                    out,
                    shading,
                )
            };
            panels.push(Panel {
                title,
                image: out,
                shading,
            });
        }
    }
    let png = image_grid(&panels, filters.len(), 4)?;
    w.figure_bytes(
        "classic-filters.png",
        &png.0,
        "Fashion-MNIST sample, first image of classes 9, 1, 0, 8; classic_filters(), S = 1, P = 1",
    )?;
    Ok(())
}
