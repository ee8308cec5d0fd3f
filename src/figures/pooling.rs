//! Figures and numbers of chapter `07-pooling`.

use ndarray::{s, Array2, Array4};

use super::{GenResult, Writer};
use crate::conv::{classic_filters, conv2d_single, Conv2dConfig};
use crate::data::fashion_mnist::{sample, CLASS_NAMES};
use crate::pool::{avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, PoolConfig};
use crate::raster::{image_grid, Panel, Shading};

fn as4(m: &Array2<f32>) -> Array4<f32> {
    let (h, w) = m.dim();
    m.clone()
        .into_shape_with_order((1, 1, h, w))
        .expect("2D to 4D")
}

fn as2(m: &Array4<f32>) -> Array2<f32> {
    let (_, _, h, w) = m.dim();
    m.clone().into_shape_with_order((h, w)).expect("one map")
}

fn panel(title: &str, image: Array2<f32>, shading: Shading) -> Panel {
    Panel {
        title: title.to_string(),
        image,
        shading,
    }
}

pub fn generate(w: &mut Writer) -> GenResult {
    // A real feature map: the vertical-edge (Sobel x) response of a trouser image, rectified.
    let data = sample();
    let index = data
        .labels
        .iter()
        .position(|&l| l == 1)
        .ok_or_else(|| crate::Error::Invalid("no trouser in the sample".into()))?;
    let image = data.image(index);
    let sobel = classic_filters()
        .into_iter()
        .find(|(n, _)| n.starts_with("vertical"))
        .ok_or_else(|| crate::Error::Invalid("no Sobel filter".into()))?
        .1;
    let feature =
        conv2d_single(image.view(), sobel.view(), Conv2dConfig::new(1, 1))?.mapv(|v| v.max(0.0));
    let f4 = as4(&feature);

    let (max2, switches) = max_pool2d(f4.view(), PoolConfig::new(2, 2))?;
    let avg2 = avg_pool2d(f4.view(), PoolConfig::new(2, 2))?;
    // Overlapping 3x3 windows with stride 2 tile 27 pixels: (27 - 3)/2 + 1 = 13.
    let cropped27 = f4.slice(s![.., .., ..27, ..27]).to_owned();
    let (max3, _) = max_pool2d(cropped27.view(), PoolConfig::new(3, 2))?;
    // The slides' 10x10 windows with stride 10, on the central 20x20 of the map.
    let central = f4.slice(s![.., .., 4..24, 4..24]).to_owned();
    let (max10, _) = max_pool2d(central.view(), PoolConfig::new(10, 10))?;
    // The all-convolutional alternative: a stride-2 convolution, here with a fixed 4x4
    // averaging kernel and padding 1, (28 - 4 + 2)/2 + 1 = 14; in a network its weights
    // would be learned.
    let blur = Array2::from_elem((4, 4), 1.0 / 16.0);
    let strided = conv2d_single(feature.view(), blur.view(), Conv2dConfig::new(2, 1))?;

    let title = format!("{} (#{index})", CLASS_NAMES[1]);
    let panels = vec![
        panel(&title, image, Shading::Grey),
        panel("edges, ReLU 28x28", feature.clone(), Shading::Grey),
        panel("max 2x2/2: 14x14", as2(&max2), Shading::Grey),
        panel("avg 2x2/2: 14x14", as2(&avg2), Shading::Grey),
        panel("max 3x3/2: 13x13", as2(&max3), Shading::Grey),
        panel("max 10x10/10: 2x2", as2(&max10), Shading::Grey),
        panel("conv 4x4/2: 14x14", strided.clone(), Shading::Grey),
    ];
    let png = image_grid(&panels, 7, 4)?;
    w.figure_bytes("pooling-demo.png", &png.0, "Fashion-MNIST sample, first trouser; Sobel x, ReLU; pools 2/2, 3/2 (27x27 crop), 10/10 (central 20x20); 4x4 averaging conv, stride 2, padding 1")?;

    // Backward: an error of 1 at every pooled output, sent back through each kind of pooling.
    let ones = Array4::<f32>::ones(max2.dim());
    let routed = max_pool2d_backward(ones.view(), switches.view(), f4.dim())?;
    let spread = avg_pool2d_backward(ones.view(), f4.dim(), PoolConfig::new(2, 2))?;
    let panels = vec![
        panel("feature map", feature, Shading::Grey),
        panel(
            "max: error to the winners",
            as2(&routed),
            Shading::Range(0.0, 1.0),
        ),
        panel(
            "avg: error spread evenly",
            as2(&spread),
            Shading::Range(0.0, 1.0),
        ),
    ];
    let png = image_grid(&panels, 3, 6)?;
    w.figure_bytes(
        "upsampled-error.png",
        &png.0,
        "an error of 1 at each of the 14x14 outputs of 2x2/2 pooling, sent back",
    )?;

    let kept = max2.len() as f64 / f4.len() as f64;
    w.number(
        "discarded_2x2",
        format!("{:.0}%", 100.0 * (1.0 - kept)),
        1.0 - kept,
    );
    let nonzero = routed.iter().filter(|&&v| v != 0.0).count();
    w.count("routed_nonzero", nonzero as u64);
    w.count("feature_pixels", f4.len() as u64);
    w.number(
        "avg_share",
        format!("{}", spread[[0, 0, 0, 0]]),
        spread[[0, 0, 0, 0]],
    );
    w.number(
        "strided_shape",
        format!("{}x{}", strided.nrows(), strided.ncols()),
        strided.len(),
    );
    super::shift_invariance::generate(w)
}
