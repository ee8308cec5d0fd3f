//! Raster pictures: PNG image grids and animated GIFs, drawn with plotters' bitmap backend
//! into memory, so the same bytes can be written to the book or shown in a notebook.
//!
//! Text is drawn with the DejaVu Sans font from the `dejavu` crate (Bitstream Vera licence),
//! registered with plotters before each drawing: no system fonts are needed.

use crate::error::Error;

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::style::ensure_font;

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

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<(), Error>;

/// Draws into an RGB buffer of `size` pixels on a white background.
pub(crate) fn draw_rgb(
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<Vec<u8>, Error> {
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

pub(crate) fn encode_png(size: (u32, u32), rgb: &[u8]) -> Result<Png, Error> {
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

pub(crate) fn encode_gif(size: (u32, u32), frames: &[(Vec<u8>, u16)]) -> Result<Gif, Error> {
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

pub(crate) fn text_style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&color)
        .pos(Pos::new(h, v))
}

/// Grey for values in `[lo, hi]` (black = lo, white = hi).
pub(crate) fn grey(value: f32, lo: f32, hi: f32) -> RGBColor {
    let t = if hi > lo {
        ((value - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let g = (t * 255.0).round() as u8;
    RGBColor(g, g, g)
}

/// Blue (negative) - white (zero) - red (positive), scaled by `max_abs`.
pub(crate) fn diverging(value: f32, max_abs: f32) -> RGBColor {
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
