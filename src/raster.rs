//! Raster pictures: PNG image grids and animated GIFs, drawn with plotters' bitmap backend
//! into memory, so the same bytes can be written to the book or shown in a notebook.
//!
//! Text is drawn with the DejaVu Sans font from the `dejavu` crate (Bitstream Vera licence),
//! registered with plotters before each drawing: no system fonts are needed.

use crate::error::Error;

use ndarray::{Array2, ArrayView2, ArrayView3, ArrayView4};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::conv::{Conv2dConfig, ConvDims};
use crate::plot::PALETTE;

/// Registers the bundled font under the family name `sans-serif`.
pub(crate) fn ensure_font() {
    // Registering twice replaces the entry with the same font: harmless, and it keeps
    // notebooks working, where statics do not survive from one cell to the next.
    let _ =
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
}

/// Standard base64, for notebook display.
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A PNG image, encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Png(pub Vec<u8>);

/// An animated GIF, encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Gif(pub Vec<u8>);

impl std::fmt::Debug for Png {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Png({} bytes)", self.0.len())
    }
}

impl std::fmt::Debug for Gif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gif({} bytes)", self.0.len())
    }
}

impl Png {
    /// Shows the image inline in an evcxr Jupyter notebook.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/png\n{}\nEVCXR_END_CONTENT",
            base64(&self.0)
        );
    }
}

impl Gif {
    /// Shows the animation inline in an evcxr Jupyter notebook.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/gif\n{}\nEVCXR_END_CONTENT",
            base64(&self.0)
        );
    }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult = Result<(), Error>;

/// Draws into an RGB buffer of `size` pixels on a white background.
fn draw_rgb(size: (u32, u32), draw: impl FnOnce(&Area) -> DrawResult) -> Result<Vec<u8>, Error> {
    ensure_font();
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(rgb)
}

fn encode_png(size: (u32, u32), rgb: &[u8]) -> Result<Png, Error> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        encoder.write_header()?.write_image_data(rgb)?;
    }
    Ok(Png(bytes))
}

fn encode_gif(size: (u32, u32), frames: &[(Vec<u8>, u16)]) -> Result<Gif, Error> {
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, size.0 as u16, size.1 as u16, &[])?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        for (rgb, delay_cs) in frames {
            let mut frame = gif::Frame::from_rgb_speed(size.0 as u16, size.1 as u16, rgb, 10);
            frame.delay = *delay_cs;
            encoder.write_frame(&frame)?;
        }
    }
    Ok(Gif(bytes))
}

fn text_style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&color)
        .pos(Pos::new(h, v))
}

/// Grey for values in `[lo, hi]` (black = lo, white = hi).
fn grey(value: f32, lo: f32, hi: f32) -> RGBColor {
    let t = if hi > lo {
        ((value - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let g = (t * 255.0).round() as u8;
    RGBColor(g, g, g)
}

/// Blue (negative) - white (zero) - red (positive), scaled by `max_abs`.
fn diverging(value: f32, max_abs: f32) -> RGBColor {
    let t = if max_abs > 0.0 {
        (value / max_abs).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let mix = |a: u8, b: u8, s: f32| (a as f32 + (b as f32 - a as f32) * s).round() as u8;
    if t >= 0.0 {
        RGBColor(mix(255, 178, t), mix(255, 24, t), mix(255, 43, t))
    } else {
        RGBColor(mix(255, 33, -t), mix(255, 102, -t), mix(255, 172, -t))
    }
}

/// How to map an image's values to colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shading {
    /// Black to white between the image's own minimum and maximum.
    Grey,
    /// Blue-white-red centred on zero: for filter responses, which have a sign.
    Signed,
    /// Black to white between two fixed values, so that panels can be compared.
    Range(f32, f32),
}

/// One panel of an image grid.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub image: Array2<f32>,
    pub shading: Shading,
}

// ANCHOR: image_grid
/// Images in a grid of `columns` panels with their titles above them, scaled up
/// (nearest neighbour) so that the largest is `scale` times its size and the others as
/// large as it.
pub fn image_grid(panels: &[Panel], columns: usize, scale: u32) -> Result<Png, Error> {
    if panels.is_empty() || columns == 0 || scale == 0 {
        return Err(Error::Figure(
            "image_grid needs panels, at least one column and a scale of at least 1".into(),
        ));
    }
    let cell_w = panels
        .iter()
        .map(|p| p.image.ncols() as u32 * scale)
        .max()
        .unwrap_or(1);
    let cell_h = panels
        .iter()
        .map(|p| p.image.nrows() as u32 * scale)
        .max()
        .unwrap_or(1);
    let (title_h, gap) = (22u32, 10u32);
    let rows = panels.len().div_ceil(columns) as u32;
    let size = (
        columns as u32 * (cell_w + gap) + gap,
        rows * (cell_h + title_h + gap) + gap,
    );
    let rgb = draw_rgb(size, |root| {
        for (n, panel) in panels.iter().enumerate() {
            let x0 = gap + (n % columns) as u32 * (cell_w + gap);
            let y0 = gap + (n / columns) as u32 * (cell_h + title_h + gap);
            root.draw(&Text::new(
                panel.title.clone(),
                ((x0 + cell_w / 2) as i32, y0 as i32),
                text_style(13.0, BLACK, HPos::Center, VPos::Top),
            ))?;
            let (lo, hi) = panel
                .image
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let max_abs = lo.abs().max(hi.abs());
            for ((r, q), &v) in panel.image.indexed_iter() {
                let color = match panel.shading {
                    Shading::Grey => grey(v, lo, hi),
                    Shading::Signed => diverging(v, max_abs),
                    Shading::Range(a, b) => grey(v, a, b),
                };
                // Smaller images are scaled up further, so every panel has the same size.
                let px = (cell_w / panel.image.ncols().max(1) as u32).max(1);
                let (x, y) = (x0 + q as u32 * px, y0 + title_h + r as u32 * px);
                root.draw(&Rectangle::new(
                    [(x as i32, y as i32), ((x + px) as i32, (y + px) as i32)],
                    color.filled(),
                ))?;
            }
            // A frame, so that white pixels do not melt into the page.
            let px = (cell_w / panel.image.ncols().max(1) as u32).max(1);
            let (w, h) = (
                panel.image.ncols() as u32 * px,
                panel.image.nrows() as u32 * px,
            );
            let top = y0 + title_h;
            root.draw(&Rectangle::new(
                [
                    (x0 as i32 - 1, top as i32 - 1),
                    ((x0 + w) as i32, (top + h) as i32),
                ],
                RGBColor(160, 160, 160).stroke_width(1),
            ))?;
        }
        Ok(())
    })?;
    encode_png(size, &rgb)
}
// ANCHOR_END: image_grid

/// Formats a number for a grid cell: integers without decimals, others with two.
fn cell_text(v: f32) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

/// Draws a grid of numbers with its top-left corner at `(x, y)`; `padding` rings of cells
/// around the values are drawn as grey zeros.
#[allow(clippy::too_many_arguments)]
fn number_grid(
    root: &Area,
    (x, y): (i32, i32),
    cell: i32,
    values: ArrayView2<f32>,
    padding: usize,
    shown: &dyn Fn(usize, usize) -> bool,
    label: &str,
    font: f64,
) -> DrawResult {
    let (h, w) = values.dim();
    let p = padding as i32;
    root.draw(&Text::new(
        label.to_string(),
        (x, y - 6),
        text_style(font, BLACK, HPos::Left, VPos::Bottom),
    ))?;
    for r in -p..h as i32 + p {
        for q in -p..w as i32 + p {
            let (cx, cy) = (x + (q + p) * cell, y + (r + p) * cell);
            let padding_cell = r < 0 || q < 0 || r >= h as i32 || q >= w as i32;
            let fill = if padding_cell {
                RGBColor(235, 235, 235)
            } else {
                WHITE
            };
            root.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                fill.filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                RGBColor(160, 160, 160),
            ))?;
            let text = if padding_cell {
                Some(("0".to_string(), RGBColor(150, 150, 150)))
            } else if shown(r as usize, q as usize) {
                Some((cell_text(values[[r as usize, q as usize]]), BLACK))
            } else {
                None
            };
            if let Some((t, color)) = text {
                root.draw(&Text::new(
                    t,
                    (cx + cell / 2, cy + cell / 2),
                    text_style(font, color, HPos::Center, VPos::Center),
                ))?;
            }
        }
    }
    Ok(())
}

// ANCHOR: conv_animation
/// An animated GIF of a convolution computed by the library: one frame per output value,
/// showing the receptive field on every input channel, the filter in use, and the output
/// filled in so far, with the dot product written out underneath.
///
/// - `input`: `(C, H, W)`; `weight`: `(K, C, KH, KW)`; `bias`: one value per filter.
pub fn conv_animation(
    input: ArrayView3<f32>,
    weight: ArrayView4<f32>,
    bias: &[f32],
    config: Conv2dConfig,
) -> Result<Gif, Error> {
    let (c, h, w) = input.dim();
    let d = ConvDims::new((1, c, h, w), weight.dim(), config)?;
    if bias.len() != d.filters {
        return Err(Error::Shape(format!(
            "{} biases for {} filters",
            bias.len(),
            d.filters
        )));
    }
    let x4 = input.to_owned().into_shape_with_order((1, c, h, w))?;
    let b = ndarray::Array1::from(bias.to_vec());
    let output = crate::conv::conv2d_naive(x4.view(), weight, Some(b.view()), config)?;

    let p = config.padding;
    let cell = if c == 1 { 40 } else { 28 };
    let font = if c == 1 { 16.0 } else { 13.0 };
    let (kh, kw, oh, ow) = (d.kernel_height, d.kernel_width, d.out_height, d.out_width);
    let in_w = (w + 2 * p) as i32 * cell;
    let in_h = (h + 2 * p) as i32 * cell;
    let label_h = 26;
    let col_x = [
        20,
        20 + in_w + 40,
        20 + in_w + 40 + (kw as i32 * cell + 30) * d.filters as i32 + 10,
    ];
    let block_h = in_h.max(kh as i32 * cell).max(oh as i32 * cell) + label_h + 8;
    let text_lines = if c == 1 { 2 } else { c as i32 + 2 };
    let size = (
        (col_x[2] + ow as i32 * cell + 30) as u32,
        (label_h + block_h * c as i32 + 22 * text_lines + 20) as u32,
    );

    let steps: Vec<(usize, usize, usize)> = (0..d.filters)
        .flat_map(|k| (0..oh).flat_map(move |i| (0..ow).map(move |j| (k, i, j))))
        .collect();
    let mut frames = Vec::new();
    for (step, &(k, i, j)) in steps.iter().enumerate() {
        let highlight = PALETTE[k % PALETTE.len()];
        let rgb = draw_rgb(size, |root| {
            for ch in 0..c {
                let top = label_h + ch as i32 * block_h + label_h;
                let x_label = if c == 1 {
                    "input x".to_string()
                } else {
                    format!("input x, channel {ch}")
                };
                number_grid(
                    root,
                    (col_x[0], top),
                    cell,
                    input.index_axis(ndarray::Axis(0), ch),
                    p,
                    &|_, _| true,
                    &x_label,
                    font,
                )?;
                // The receptive field of output (i, j), in padded coordinates.
                let (x0, y0) = (
                    col_x[0] + (j * config.stride) as i32 * cell,
                    top + (i * config.stride) as i32 * cell,
                );
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + kw as i32 * cell, y0 + kh as i32 * cell)],
                    highlight.stroke_width(3),
                ))?;
                for f in 0..d.filters {
                    let fx = col_x[1] + f as i32 * (kw as i32 * cell + 30);
                    let kernel = weight.slice(ndarray::s![f, ch, .., ..]);
                    let label = if c == 1 {
                        "filter w".to_string()
                    } else {
                        format!("w{f}, ch {ch}")
                    };
                    number_grid(root, (fx, top), cell, kernel, 0, &|_, _| true, &label, font)?;
                    if f == k {
                        root.draw(&Rectangle::new(
                            [(fx, top), (fx + kw as i32 * cell, top + kh as i32 * cell)],
                            highlight.stroke_width(3),
                        ))?;
                    }
                }
            }
            // Output maps, filled in up to the current step.
            for f in 0..d.filters {
                let top = label_h + f as i32 * block_h + label_h;
                let done = |r: usize, q: usize| steps[..=step].contains(&(f, r, q));
                let label = if d.filters == 1 {
                    "output y".to_string()
                } else {
                    format!("output y{f}")
                };
                number_grid(
                    root,
                    (col_x[2], top),
                    cell,
                    output.slice(ndarray::s![0, f, .., ..]),
                    0,
                    &done,
                    &label,
                    font,
                )?;
                if f == k {
                    let (x0, y0) = (col_x[2] + j as i32 * cell, top + i as i32 * cell);
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x0 + cell, y0 + cell)],
                        highlight.stroke_width(3),
                    ))?;
                }
            }
            // The dot product, written out.
            let mut lines = Vec::new();
            let mut total = bias[k];
            for ch in 0..c {
                let mut terms = Vec::new();
                let mut sum = 0.0;
                for u in 0..kh {
                    for v in 0..kw {
                        let xv = d.source(i, j, u, v).map_or(0.0, |(r, q)| input[[ch, r, q]]);
                        let wv = weight[[k, ch, u, v]];
                        sum += xv * wv;
                        terms.push(format!("{}·{}", cell_text(xv), cell_text(wv)));
                    }
                }
                total += sum;
                lines.push(if c == 1 {
                    format!("{} = {}", terms.join(" + "), cell_text(sum))
                } else {
                    format!(
                        "channel {ch}: sum of x·w{k} over the window = {}",
                        cell_text(sum)
                    )
                });
            }
            lines.push(format!(
                "y{}[{i}, {j}] = {}bias {} = {}",
                if d.filters == 1 {
                    String::new()
                } else {
                    k.to_string()
                },
                if c == 1 {
                    "that + ".to_string()
                } else {
                    "channel sums + ".to_string()
                },
                cell_text(bias[k]),
                cell_text(total)
            ));
            let y_text = label_h + block_h * c as i32 + 8;
            for (n, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (20, y_text + 22 * n as i32),
                    text_style(font - 1.0, BLACK, HPos::Left, VPos::Top),
                ))?;
            }
            Ok(())
        })?;
        let last = step + 1 == steps.len();
        frames.push((rgb, if last { 300 } else { 110 }));
    }
    encode_gif(size, &frames)
}
// ANCHOR_END: conv_animation
