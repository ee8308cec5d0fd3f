//! Charts and diagrams drawn with plotters as SVG.
//!
//! Everything here is pure: numbers in, an [`Svg`] out. Writing files is the job of
//! [`crate::figures`]; showing a chart in a notebook is [`Svg::evcxr_display`].

use crate::error::Error;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A drawing as SVG text.
#[derive(Clone, PartialEq, Eq)]
pub struct Svg(pub String);

/// Short, so that a notebook that prints a drawing by mistake shows its size, not its markup.
impl std::fmt::Debug for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Svg({} bytes of SVG)", self.0.len())
    }
}

impl Svg {
    /// The SVG markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shows the drawing inline in an evcxr Jupyter notebook.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT",
            self.0
        );
    }
}

/// What drawing can fail with (plotters reports backend and layout errors).
pub type PlotResult = Result<Svg, Error>;

pub use crate::style::PALETTE;
use crate::style::{FONT, GREY, LIGHT};

/// Draws `title` centred at the top of a diagram `width` pixels wide, `y` pixels down.
pub(crate) fn draw_title(
    root: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    width: u32,
    y: i32,
    size: u32,
) -> Result<(), Error> {
    root.draw(&Text::new(
        title.to_string(),
        (width as i32 / 2, y),
        (FONT, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    Ok(())
}

pub(crate) fn draw_svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), Error>,
) -> PlotResult {
    crate::style::ensure_font(); // text sizes for layout come from the bundled font
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(Svg(text))
}

/// One named line of `(x, y)` points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Labels and axes of a chart.
#[derive(Debug, Clone)]
pub struct ChartSpec {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
}

fn bounds(values: impl Iterator<Item = f64>, log: bool, decades: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if log && !decades {
        (lo / 1.15, hi * 1.15)
    } else if log {
        // Whole decades, so the log axis starts and ends on a labelled power of ten.
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        )
    } else {
        let pad = (hi - lo).abs().max(1e-9) * 0.05;
        (lo - pad, hi + pad)
    }
}

/// Powers of ten as the axis labels print them: `1e6` -> `"10^6"`, small values in full.
fn tick_label(v: f64, log: bool) -> String {
    if log && v > 0.0 && v < 1e-2 {
        // Small powers of ten: 10⁻³, with a mantissa when the tick is not a power.
        const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
        let exponent = v.log10().floor() as i32;
        let digits: String = exponent
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| SUPERSCRIPTS[(b - b'0') as usize])
            .collect();
        let mantissa = v / 10f64.powi(exponent);
        return if (mantissa - 1.0).abs() < 1e-6 {
            format!("10⁻{digits}")
        } else {
            format!("{mantissa:.0}×10⁻{digits}")
        };
    }
    if log && v >= 1e3 {
        const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
        let exponent = (v.log10().round() as u32).to_string();
        let exponent: String = exponent
            .bytes()
            .map(|b| SUPERSCRIPTS[(b - b'0') as usize])
            .collect();
        let mantissa = v / 10f64.powi(v.log10().round() as i32);
        if (mantissa - 1.0).abs() < 1e-9 {
            format!("10{exponent}")
        } else {
            format!("{mantissa:.1}×10{exponent}")
        }
    } else if v.fract() == 0.0 {
        let digits = crate::format::thousands(v.abs() as u64);
        if v < 0.0 {
            format!("-{digits}")
        } else {
            digits
        }
    } else {
        // Plotters picks round tick values; two decimals show them without float noise.
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Where a chart's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendCorner {
    #[default]
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

/// How a chart draws its series, beyond [`ChartSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChartStyle {
    pub legend: LegendCorner,
    /// Draw each point as a stem from zero (for discrete sequences) instead of joining
    /// the points with lines.
    pub stems: bool,
    /// Extra space above the data, as a fraction of its range, to keep the legend off it.
    pub headroom: f64,
    /// The value axis from `.0` to `.1` instead of the data's range (for charts that are
    /// to be compared side by side).
    pub y_range: Option<(f64, f64)>,
    /// At most this many labels on the x axis instead of plotters' choice (for a few
    /// whole numbers, such as epochs, which would otherwise get halves between them).
    pub x_labels: Option<usize>,
}

/// A line chart of several series, each with point markers, on linear or log axes.
pub fn line_chart(spec: &ChartSpec, series: &[Series]) -> PlotResult {
    line_chart_styled(spec, series, ChartStyle::default())
}

/// [`line_chart`] with a choice of legend corner, stems, and headroom for the legend.
pub fn line_chart_styled(spec: &ChartSpec, series: &[Series], style: ChartStyle) -> PlotResult {
    if series.iter().all(|s| s.points.is_empty()) {
        return Err(Error::Figure("line_chart needs at least one point".into()));
    }
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = bounds(all().map(|p| p.0), spec.log_x, false);
    let (mut y0, mut y1) = match style.y_range {
        Some(range) => range,
        None => bounds(all().map(|p| p.1), spec.log_y, true),
    };
    if style.stems && !spec.log_y {
        y0 = y0.min(0.0);
    }
    if style.headroom > 0.0 {
        if spec.log_y {
            y1 *= 10f64.powf(style.headroom * (y1 / y0).log10());
        } else {
            y1 += style.headroom * (y1 - y0);
        }
    }
    let position = match style.legend {
        LegendCorner::UpperLeft => SeriesLabelPosition::UpperLeft,
        LegendCorner::UpperRight => SeriesLabelPosition::UpperRight,
        LegendCorner::LowerLeft => SeriesLabelPosition::LowerLeft,
        LegendCorner::LowerRight => SeriesLabelPosition::LowerRight,
    };
    draw_svg((720, 440), |root| {
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&spec.title, (FONT, 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72);
        // Four combinations of axis types are four different chart types in plotters.
        macro_rules! finish {
            ($x:expr, $y:expr) => {{
                let mut chart = builder.build_cartesian_2d($x, $y)?;
                let mut mesh = chart.configure_mesh();
                if let Some(n) = style.x_labels {
                    mesh.x_labels(n);
                }
                mesh.x_desc(spec.x_label.as_str())
                    .y_desc(spec.y_label.as_str())
                    .x_label_formatter(&|v| tick_label(*v, spec.log_x))
                    .y_label_formatter(&|v| tick_label(*v, spec.log_y))
                    .light_line_style(LIGHT)
                    .max_light_lines(1)
                    .label_style((FONT, 13))
                    .draw()?;
                for (i, s) in series.iter().enumerate() {
                    let color = PALETTE[i % PALETTE.len()];
                    let legend = move |(x, y): (i32, i32)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    };
                    if style.stems {
                        // Nudge each series sideways so stems at the same x stay visible.
                        let dx = (i as f64 - (series.len() as f64 - 1.0) / 2.0) * 0.12;
                        chart
                            .draw_series(s.points.iter().map(|&(x, y)| {
                                PathElement::new(
                                    vec![(x + dx, 0.0), (x + dx, y)],
                                    color.stroke_width(2),
                                )
                            }))?
                            .label(s.name.as_str())
                            .legend(legend);
                        chart.draw_series(
                            s.points
                                .iter()
                                .map(|&(x, y)| Circle::new((x + dx, y), 3, color.filled())),
                        )?;
                        continue;
                    }
                    chart
                        .draw_series(LineSeries::new(
                            s.points.iter().copied(),
                            color.stroke_width(2),
                        ))?
                        .label(s.name.as_str())
                        .legend(legend);
                    // Markers help to read sparse series and clutter dense ones.
                    if s.points.len() <= 60 {
                        chart.draw_series(
                            s.points.iter().map(|&p| Circle::new(p, 3, color.filled())),
                        )?;
                    }
                }
                chart
                    .configure_series_labels()
                    .position(position)
                    .background_style(WHITE.mix(0.9))
                    .border_style(GREY)
                    .label_font((FONT, 14))
                    .draw()?;
            }};
        }
        match (spec.log_x, spec.log_y) {
            (false, false) => finish!(x0..x1, y0..y1),
            (true, false) => finish!((x0..x1).log_scale(), y0..y1),
            (false, true) => finish!(x0..x1, (y0..y1).log_scale()),
            (true, true) => finish!((x0..x1).log_scale(), (y0..y1).log_scale()),
        }
        Ok(())
    })
}

/// A value for a bar label: whole numbers with separators, small ones with two decimals.
fn value_label(v: f64) -> String {
    if v >= 100.0 {
        crate::format::thousands(v.round() as u64)
    } else {
        format!("{v:.2}")
    }
}

/// A chart with bars along a linear x axis and a logarithmic value axis.
type BarChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// The axes shared by the bar charts: `slots` bars or groups side by side along x, a
/// logarithmic value axis from `y.0` to `y.1`, no x ticks (the bars carry their labels).
fn bar_axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    y_label: &str,
    slots: usize,
    (y0, y1): (f64, f64),
) -> Result<BarChart<'a, 'b>, Error> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..slots as f64, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .y_label_formatter(&|v| tick_label(*v, true))
        .light_line_style(LIGHT)
        .max_light_lines(1)
        .label_style((FONT, 13))
        .draw()?;
    Ok(chart)
}

/// Bars in groups on a logarithmic axis: one group per entry of `groups`, one bar per
/// series in each group, with a legend naming the series.
pub fn grouped_log_bar_chart(
    title: &str,
    y_label: &str,
    groups: &[String],
    series: &[(String, Vec<f64>)],
) -> PlotResult {
    if groups.is_empty()
        || series
            .iter()
            .any(|(_, v)| v.len() != groups.len() || v.iter().any(|&x| x <= 0.0))
    {
        return Err(Error::Figure(
            "grouped_log_bar_chart needs one positive value per group in every series".into(),
        ));
    }
    let (y0, y1) = bounds(
        series.iter().flat_map(|(_, v)| v.iter().copied()),
        true,
        true,
    );
    // Room above the bars for the legend: a decade for a short legend; for a long one, as
    // much of the height as the legend takes (about 22 pixels a line of 380).
    let many = series.len() > 3;
    let y1 = if many {
        let legend = ((series.len() * 22 + 20) as f64 / 380.0).min(0.6);
        y0 * 10f64.powf((y1 / y0).log10() / (1.0 - legend))
    } else {
        y1 * 10.0
    };
    let width = 0.8 / series.len() as f64;
    let size = if many { (960, 480) } else { (720, 440) };
    draw_svg(size, |root| {
        let mut chart = bar_axes(root, title, y_label, groups.len(), (y0, y1))?;
        for (g, name) in groups.iter().enumerate() {
            chart.draw_series(std::iter::once(Text::new(
                name.clone(),
                (g as f64 + 0.5, y0),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )))?;
        }
        for (i, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(values.iter().enumerate().map(|(g, &v)| {
                    let x = g as f64 + 0.1 + i as f64 * width;
                    Rectangle::new([(x, y0), (x + width * 0.9, v)], color.filled())
                }))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
            if many {
                continue; // too many bars for a value on each: the chapters give tables
            }
            chart.draw_series(values.iter().enumerate().map(|(g, &v)| {
                let x = g as f64 + 0.1 + (i as f64 + 0.45) * width;
                Text::new(
                    value_label(v),
                    (x, v),
                    (FONT, 13)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            }))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .label_font((FONT, 14))
            .draw()?;
        Ok(())
    })
}

/// A bar chart with a logarithmic value axis, one bar per `(label, value)`.
pub fn log_bar_chart(title: &str, y_label: &str, bars: &[(String, f64)]) -> PlotResult {
    if bars.is_empty() || bars.iter().any(|(_, v)| *v <= 0.0) {
        return Err(Error::Figure(
            "log_bar_chart needs at least one bar, all positive".into(),
        ));
    }
    let (y0, y1) = bounds(bars.iter().map(|b| b.1), true, true);
    let n = bars.len();
    draw_svg((720, 440), |root| {
        let mut chart = bar_axes(root, title, y_label, n, (y0, y1))?;
        for (i, (label, value)) in bars.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let x = i as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.15, y0), (x + 0.85, *value)],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (x + 0.5, y0),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                value_label(*value),
                (x + 0.5, *value),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        Ok(())
    })
}

/// One bar of [`bar_chart`]: a label under it, its value, and notes written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Written above the value, the first lowest.
    pub notes: Vec<String>,
}

/// A bar chart with a linear value axis from zero, each bar labelled under the axis, its
/// value and notes written above it, and an optional dashed horizontal reference line
/// (`name`, `value`).
pub fn bar_chart(
    title: &str,
    y_label: &str,
    bars: &[Bar],
    reference: Option<(&str, f64)>,
) -> PlotResult {
    if bars.is_empty() || bars.iter().any(|b| !b.value.is_finite() || b.value < 0.0) {
        return Err(Error::Figure(
            "bar_chart needs at least one bar, all finite and not negative".into(),
        ));
    }
    let top = bars
        .iter()
        .map(|b| b.value)
        .chain(reference.map(|r| r.1))
        .fold(0.0f64, f64::max);
    let y1 = top * 1.3;
    let n = bars.len();
    draw_svg((820, 460), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0f64..y1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(y_label)
            .y_label_formatter(&|v| tick_label(*v, false))
            .light_line_style(LIGHT)
            .max_light_lines(1)
            .label_style((FONT, 13))
            .draw()?;
        let text = |s: &str, at: (f64, f64), v: VPos| {
            Text::new(
                s.to_string(),
                at,
                (FONT, 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, v)),
            )
        };
        for (i, bar) in bars.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let x = i as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, bar.value)],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(text(
                &bar.label,
                (x + 0.5, -0.012 * y1),
                VPos::Top,
            )))?;
            // Above the bar, from the bottom up: its value, then its notes.
            let lines = std::iter::once(value_label(bar.value)).chain(bar.notes.iter().cloned());
            for (line, content) in lines.enumerate() {
                let y = bar.value + (0.01 + 0.06 * line as f64) * y1;
                chart.draw_series(std::iter::once(text(&content, (x + 0.5, y), VPos::Bottom)))?;
            }
        }
        if let Some((name, value)) = reference {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, value), (n as f64, value)],
                6,
                4,
                GREY.stroke_width(2),
            ))?;
            // Named in the upper right corner, away from the bars' notes.
            chart.draw_series(std::iter::once(Text::new(
                format!("dashed line: {name}"),
                (n as f64 - 0.05, 0.98 * y1),
                (FONT, 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Top)),
            )))?;
        }
        Ok(())
    })
}

// ANCHOR: labelled_matrix
/// A matrix drawn as a grid, with `label(r, c)` written in the non-empty cells and the
/// empty (zero) cells left grey: for showing which weights sit where in `C`.
pub fn labelled_matrix(
    title: &str,
    rows: usize,
    cols: usize,
    label: &dyn Fn(usize, usize) -> Option<String>,
) -> PlotResult {
    let cell = 44i32;
    let (left, top) = (20i32, 50i32);
    // Wide enough for the title (about 9 pixels a character at this size).
    let width = ((left * 2 + cols as i32 * cell) as u32)
        .max(560)
        .max(title.len() as u32 * 9 + 40);
    let height = (top + rows as i32 * cell + 20) as u32;
    draw_svg((width, height), |root| {
        draw_title(root, title, width, 12, 18)?;
        for r in 0..rows {
            for c in 0..cols {
                let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
                let text = label(r, c);
                let fill = if text.is_some() {
                    PALETTE[5].mix(0.35)
                } else {
                    LIGHT.mix(1.0)
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    GREY.stroke_width(1),
                ))?;
                let shown = text.unwrap_or_else(|| "0".to_string());
                root.draw(&Text::new(
                    shown,
                    (x + cell / 2, y + cell / 2),
                    (FONT, 13)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
        }
        Ok(())
    })
}
// ANCHOR_END: labelled_matrix

/// A matrix of numbers drawn as a grid, each cell shaded by its value (darker = larger).
pub fn shaded_matrix(title: &str, values: ndarray::ArrayView2<f32>) -> PlotResult {
    shaded_matrix_labelled(title, values, &[], &[], "", "")
}

/// [`shaded_matrix`] with a label for every row and column and a title for each axis.
pub fn shaded_matrix_labelled(
    title: &str,
    values: ndarray::ArrayView2<f32>,
    row_labels: &[String],
    col_labels: &[String],
    row_title: &str,
    col_title: &str,
) -> PlotResult {
    let (rows, cols) = values.dim();
    let max = values
        .iter()
        .fold(0.0f32, |m, &v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);
    let cell = 44i32;
    let labelled = !row_labels.is_empty();
    let left = if labelled { 130i32 } else { 20 };
    let top = if labelled { 90i32 } else { 50 };
    // Wide enough for the title (about 9 pixels a character at this size).
    let width = ((left + 20 + cols as i32 * cell) as u32)
        .max(560)
        .max(title.len() as u32 * 9 + 40);
    let height = (top + rows as i32 * cell + 20) as u32;
    let text = |t: String, x: i32, y: i32, size: i32, h: HPos| {
        Text::new(
            t,
            (x, y),
            (FONT, size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(h, VPos::Center)),
        )
    };
    draw_svg((width, height), |root| {
        draw_title(root, title, width, 12, 18)?;
        if labelled {
            root.draw(&text(
                col_title.to_string(),
                left + cols as i32 * cell / 2,
                50,
                14,
                HPos::Center,
            ))?;
            root.draw(&text(row_title.to_string(), 6, top - 14, 14, HPos::Left))?;
        }
        for (c, label) in col_labels.iter().enumerate().take(cols) {
            root.draw(&text(
                label.clone(),
                left + c as i32 * cell + cell / 2,
                top - 14,
                13,
                HPos::Center,
            ))?;
        }
        for (r, label) in row_labels.iter().enumerate().take(rows) {
            root.draw(&text(
                label.clone(),
                left - 8,
                top + r as i32 * cell + cell / 2,
                13,
                HPos::Right,
            ))?;
        }
        for ((r, c), &v) in values.indexed_iter() {
            let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
            // Square-root shading, so that small counts are still visible next to large ones.
            let fill = PALETTE[0].mix(0.08 + 0.82 * (v.abs() / max).sqrt() as f64);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                fill.filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                GREY.stroke_width(1),
            ))?;
            root.draw(&text(
                format!("{v}"),
                x + cell / 2,
                y + cell / 2,
                14,
                HPos::Center,
            ))?;
        }
        Ok(())
    })
}
