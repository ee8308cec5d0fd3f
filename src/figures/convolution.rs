//! Figures and numbers of chapter `04-convolution`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{markdown_table, GenResult, Writer};
use crate::conv1d::{
    causal_filter, convolve, correlate, ema_kernel, moving_average_kernel, Sequence,
};
use crate::plot::{line_chart_styled, ChartSpec, ChartStyle, LegendCorner, Series};

/// The seed of the noisy signal.
pub const SEED: u64 = 4;
const LEN: usize = 200;

/// A slow sine plus a faster one: the signal hidden in the noise.
fn clean(t: usize) -> f64 {
    let t = t as f64;
    (2.0 * std::f64::consts::PI * t / 100.0).sin()
        + 0.4 * (2.0 * std::f64::consts::PI * t / 37.0).sin()
}

/// Standard normal samples by the Box-Muller transform.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1], so the logarithm is finite
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn series(name: &str, values: &[f64]) -> Series {
    Series {
        name: name.to_string(),
        points: values
            .iter()
            .enumerate()
            .map(|(t, &v)| (t as f64, v))
            .collect(),
    }
}

fn rmse(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

pub fn generate(w: &mut Writer) -> GenResult {
    w.set_seed(SEED);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let truth: Vec<f64> = (0..LEN).map(clean).collect();
    let noisy: Vec<f64> = truth.iter().map(|v| v + 0.35 * normal(&mut rng)).collect();
    let spec = |title: &str| ChartSpec {
        title: title.to_string(),
        x_label: "time t".into(),
        y_label: "value".into(),
        log_x: false,
        log_y: false,
    };

    // Room above the data for the legend, so that it hides nothing.
    let signal_style = ChartStyle {
        headroom: 0.45,
        ..ChartStyle::default()
    };
    let ks = [5usize, 20];
    let averaged: Vec<Vec<f64>> = ks
        .iter()
        .map(|&k| causal_filter(&noisy, &moving_average_kernel(k)?))
        .collect::<Result<_, _>>()?;
    let chart = line_chart_styled(
        &spec("Moving average over the past K values"),
        &[
            series("noisy signal f", &noisy),
            series("moving average, K = 5", &averaged[0]),
            series("moving average, K = 20", &averaged[1]),
            series("clean signal (without noise)", &truth),
        ],
        signal_style,
    )?;
    w.figure(
        "moving-average.svg",
        &chart,
        "sines plus N(0, 0.35^2) noise, 200 steps; K = 5, 20",
    )?;

    let alphas = [0.3f64, 0.05];
    let smoothed: Vec<Vec<f64>> = alphas
        .iter()
        .map(|&a| causal_filter(&noisy, &ema_kernel(a, LEN)?))
        .collect::<Result<_, _>>()?;
    let chart = line_chart_styled(
        &spec("Exponential moving average"),
        &[
            series("noisy signal f", &noisy),
            series("EMA, alpha = 0.3", &smoothed[0]),
            series("EMA, alpha = 0.05", &smoothed[1]),
            series("clean signal (without noise)", &truth),
        ],
        signal_style,
    )?;
    w.figure("ema.svg", &chart, "the same signal; alpha = 0.3, 0.05")?;

    // The kernels themselves, g(tau) for tau = 0..30.
    let taus = 30;
    let stems = ChartStyle {
        legend: LegendCorner::UpperRight,
        stems: true,
        headroom: 0.1,
        ..ChartStyle::default()
    };
    let kernel_series = |name: &str, g: &Sequence| Series {
        name: name.to_string(),
        points: (0..taus).map(|t| (t as f64, g.at(t as i64))).collect(),
    };
    let chart = line_chart_styled(
        &ChartSpec {
            title: "The kernels g(tau): how much each past value weighs".into(),
            x_label: "tau (steps into the past)".into(),
            y_label: "g(tau)".into(),
            log_x: false,
            log_y: false,
        },
        &[
            kernel_series("moving average, K = 5", &moving_average_kernel(5)?),
            kernel_series("moving average, K = 20", &moving_average_kernel(20)?),
            kernel_series("EMA, alpha = 0.3", &ema_kernel(0.3, taus)?),
            kernel_series("EMA, alpha = 0.05", &ema_kernel(0.05, taus)?),
        ],
        stems,
    )?;
    w.figure(
        "kernels.svg",
        &chart,
        "K = 5, 20; alpha = 0.3, 0.05; tau = 0..30",
    )?;

    // How far each smoother is from the clean signal, and how late it is.
    let mut rows = vec![vec![
        "noisy signal itself".to_string(),
        format!("{:.3}", rmse(&noisy, &truth)),
        "-".into(),
    ]];
    for (k, y) in ks.iter().zip(&averaged) {
        rows.push(vec![
            format!("moving average, K = {k}"),
            format!("{:.3}", rmse(y, &truth)),
            format!("{:.1}", (*k as f64 - 1.0) / 2.0),
        ]);
    }
    for (a, y) in alphas.iter().zip(&smoothed) {
        rows.push(vec![
            format!("EMA, alpha = {a}"),
            format!("{:.3}", rmse(y, &truth)),
            format!("{:.1}", (1.0 - a) / a),
        ]);
    }
    let table = markdown_table(
        &[
            "smoother",
            "RMS error vs the clean signal",
            "average delay (steps)",
        ],
        &rows,
    );
    w.snippet(
        "smoothing-errors.md",
        &table,
        "the signal of moving-average.svg and ema.svg",
    )?;
    w.number("noise_sigma", "0.35", 0.35);
    w.number(
        "ema_tail_40",
        format!("{:.3}", 0.95f64.powi(40)),
        0.95f64.powi(40),
    );

    // Flip: an impulse through an asymmetric kernel, by convolution and by correlation.
    let impulse = Sequence::causal((0..12).map(|t| if t == 4 { 1.0 } else { 0.0 }).collect());
    let g = Sequence::causal(vec![1.0, 2.0, 3.0]);
    let conv = convolve(&impulse, &g);
    let corr = correlate(&impulse, &g);
    let window = |s: &Sequence| (0..12).map(|t| s.at(t)).collect::<Vec<_>>();
    let chart = line_chart_styled(
        &ChartSpec {
            title: "An impulse at t = 4 through the kernel g = (1, 2, 3)".into(),
            x_label: "time t".into(),
            y_label: "output".into(),
            log_x: false,
            log_y: false,
        },
        &[
            series("the input f: an impulse at t = 4", &window(&impulse)),
            series("convolution f * g: the kernel as written", &window(&conv)),
            series("cross-correlation: the kernel reversed", &window(&corr)),
        ],
        ChartStyle {
            headroom: 0.5,
            ..stems
        },
    )?;
    w.figure(
        "flip.svg",
        &chart,
        "impulse at t = 4 of 12; g = (1, 2, 3) at tau = 0, 1, 2",
    )?;
    let show = |v: Vec<f64>| {
        v.iter()
            .map(|x| format!("{x}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    w.number(
        "flip_conv",
        show(window(&conv)[4..7].to_vec()),
        window(&conv)[4..7].to_vec(),
    );
    w.number(
        "flip_corr",
        show(window(&corr)[2..5].to_vec()),
        window(&corr)[2..5].to_vec(),
    );
    // Where each answer is not zero, and where the spike is.
    let support = |s: &Sequence| {
        let t: Vec<i64> = (0..12).filter(|&t| s.at(t) != 0.0).collect();
        (show(t.iter().map(|&t| t as f64).collect()), t)
    };
    let spike: i64 = (0..12).find(|&t| impulse.at(t) != 0.0).expect("an impulse");
    w.number("flip_spike", spike.to_string(), spike);
    let (shown, times) = support(&conv);
    w.number("flip_conv_times", shown, times);
    let (shown, times) = support(&corr);
    w.number("flip_corr_times", shown, times);
    Ok(())
}
