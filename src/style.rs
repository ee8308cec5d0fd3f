//! What every drawing of the book shares, SVG chart or PNG image: the palette and the
//! font. The two drawing modules, [`crate::plot`] and [`crate::raster`], both use it and
//! neither uses the other.

use plotters::style::{FontStyle, RGBColor};

/// The book's palette: colour-blind safe (Okabe & Ito).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
];

/// The family name of the bundled font.
pub(crate) const FONT: &str = "sans-serif";
/// Lines and labels that stay in the background.
pub(crate) const GREY: RGBColor = RGBColor(150, 150, 150);
/// Empty cells.
pub(crate) const LIGHT: RGBColor = RGBColor(235, 235, 235);

/// Registers the bundled font (DejaVu Sans, from the `dejavu` crate, Bitstream Vera
/// licence) under the family name `sans-serif`: no system fonts are needed.
pub(crate) fn ensure_font() {
    // Registering twice replaces the entry with the same font: harmless, and it keeps
    // notebooks working, where statics do not survive from one cell to the next.
    let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
}
