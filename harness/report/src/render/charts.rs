//! The report's two kinds of chart, drawn as inline SVG with plotters:
//! horizontal bars with the repetitions' range as whiskers (log scale, so a
//! 100x spread stays readable), and lines over a log value axis with the
//! same whiskers at each point, against latency percentiles on a "nines"
//! axis (the HdrHistogram way), a count (scaling curves), a rate on a log
//! axis (offered load) or named steps (capacities, message sizes).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{ReportError, Result};

/// Colors for series, in order: Tableau's ten, then ten more from
/// Kelly's list of colors of maximum contrast.
const PALETTE: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 128),
    RGBColor(136, 45, 23),
    RGBColor(0, 136, 86),
    RGBColor(179, 68, 108),
    RGBColor(141, 182, 0),
    RGBColor(96, 78, 151),
    RGBColor(246, 166, 0),
    RGBColor(43, 61, 38),
    RGBColor(161, 202, 241),
    RGBColor(101, 69, 34),
];

const FONT: &str = "sans-serif";
const WIDTH: u32 = 760;

/// A series' color.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// One colour per implementation in every line chart of a report: the
/// implementations of a run, in name order, each its own colour; a runtime
/// variant (`kanal-async@current-thread`) shares its implementation's
/// colour and is dashed on the current-thread runtime.
#[derive(Debug, Clone, Default)]
pub struct Colors(std::collections::BTreeMap<String, usize>);

impl Colors {
    /// Colours for the implementations named in `names`.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Colors {
        let names: std::collections::BTreeSet<&str> = names.into_iter().collect();
        Colors(
            names
                .into_iter()
                .enumerate()
                .map(|(index, name)| (name.to_owned(), index))
                .collect(),
        )
    }

    /// The colour of `implementation`'s lines; the `fallback` index's
    /// colour for one it does not know.
    fn color_of(&self, implementation: &str, fallback: usize) -> RGBColor {
        color(self.0.get(implementation).copied().unwrap_or(fallback))
    }
}

/// A median with the range of the repetitions around it.
#[derive(Debug, Clone, Copy)]
pub struct Bar {
    /// The bar's length.
    pub median: f64,
    /// The whisker's left end.
    pub min: f64,
    /// The whisker's right end.
    pub max: f64,
}

impl From<crate::schema::Spread> for Bar {
    fn from(spread: crate::schema::Spread) -> Bar {
        Bar {
            median: spread.median,
            min: spread.min,
            max: spread.max,
        }
    }
}

/// A horizontal bar chart: one group per row, one bar per series in it.
pub struct Bars {
    /// What the value axis measures.
    pub axis: String,
    /// The series' names (machines, or closed and open loop); one series
    /// needs no legend.
    pub series: Vec<String>,
    /// Each row's label and its bar per series (`None` when the series
    /// has no value there).
    pub rows: Vec<(String, Vec<Option<Bar>>)>,
    /// How a value reads on the axis.
    pub format: fn(f64) -> String,
}

/// One line of a [`Lines`] chart.
pub struct Line {
    /// Its legend entry, caveats included.
    pub name: String,
    /// The implementation it measures, which picks its colour.
    pub implementation: String,
    /// Whether it is drawn dashed: a variant on the current-thread runtime,
    /// dashed in every chart of the page so it reads as one at a glance.
    pub dashed: bool,
    /// `(x, median)`, along the horizontal axis.
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)`: the repetitions' range at each point.
    pub whiskers: Vec<(f64, f64, f64)>,
}

/// A line chart over a log value axis.
pub struct Lines {
    /// What the horizontal axis is.
    pub x_axis: XAxis,
    /// What the value axis measures.
    pub y_axis: String,
    /// The lines, in legend order.
    pub lines: Vec<Line>,
    /// The colour of each implementation's lines.
    pub colors: Colors,
    /// How a value reads on the axis.
    pub format: fn(f64) -> String,
}

/// The horizontal axis of a [`Lines`] chart.
#[derive(Debug, Clone)]
pub enum XAxis {
    /// Percentiles placed at `-log10(1 - q)`: p90 at 1, p99 at 2, p99.9
    /// at 3; labelled by percentile.
    Nines,
    /// A count (threads, workers), labelled by value.
    Count(String),
    /// A rate, named by the string, on a log scale, marked at each power
    /// of ten.
    Rate(String),
    /// Named steps (capacities, message sizes), named by the string, evenly
    /// spaced: a point's x is the index of its step.
    Steps(String, Vec<String>),
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn plot_error(err: impl std::fmt::Display) -> ReportError {
    ReportError::Chart(err.to_string())
}

/// Left margin that fits the longest of `labels`.
fn label_margin(labels: impl Iterator<Item = usize>) -> u32 {
    (labels.max().unwrap_or(8) as u32 * 7 + 16).clamp(60, 300)
}

/// The most decades a log axis spans: a value further below the largest
/// is drawn at the axis's foot. Real figures span a few decades; a file
/// with an absurd value (1e308 items/s) would otherwise ask plotters for
/// hundreds of decades of ticks, which takes minutes.
const MOST_DECADES: f64 = 15.0;

/// A log-scale range that covers `values` with some room, at most
/// [`MOST_DECADES`] wide and finite.
fn log_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return 1.0..10.0;
    }
    let top = (hi.log10() + 0.05f64.ln_1p() / 10f64.ln())
        .ceil()
        .min(f64::MAX_10_EXP as f64);
    let bottom = lo.log10().floor().max(top - MOST_DECADES);
    let top = top.max(bottom + 1.0);
    10f64.powf(bottom)..10f64.powf(top)
}

/// Draws `bars` as an SVG document.
pub fn bars_svg(bars: &Bars) -> Result<String> {
    let groups = bars.rows.len().max(1);
    let per_group = bars.series.len().max(1);
    let legend = if bars.series.len() > 1 {
        18 * bars.series.len().div_ceil(legend_columns(&bars.series)) as u32 + 6
    } else {
        0
    };
    let height = 50 + legend + groups as u32 * (8 + 14 * per_group as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let x_range = log_range(
            bars.rows
                .iter()
                .flat_map(|(_, values)| values.iter().flatten())
                .flat_map(|bar| [bar.min, bar.max, bar.median]),
        );
        let x_low = x_range.start;
        let x_format = |v: &f64| (bars.format)(*v);
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_top(8 + legend)
            .margin_right(24)
            .margin_left(label_margin(
                bars.rows.iter().map(|(l, _)| l.chars().count()),
            ))
            .x_label_area_size(34)
            .build_cartesian_2d(x_range.log_scale(), 0f64..groups as f64)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(bars.axis.as_str())
            .x_label_formatter(&x_format)
            .label_style((FONT, 12))
            .draw()
            .map_err(plot_error)?;
        let slot = 0.8 / per_group as f64;
        for (group, (_, values)) in bars.rows.iter().enumerate() {
            for (series, bar) in values.iter().enumerate() {
                let Some(bar) = bar else { continue };
                // Row 0 at the top.
                let top = groups as f64 - group as f64 - 0.1 - slot * series as f64;
                let (y0, y1) = (top - slot * 0.9, top);
                let middle = (y0 + y1) / 2.0;
                let fill = color(series);
                chart
                    .draw_series([Rectangle::new(
                        [(x_low, y0), (bar.median.max(x_low), y1)],
                        fill.mix(0.85).filled(),
                    )])
                    .map_err(plot_error)?;
                chart
                    .draw_series([PathElement::new(
                        vec![(bar.min.max(x_low), middle), (bar.max.max(x_low), middle)],
                        BLACK.stroke_width(1),
                    )])
                    .map_err(plot_error)?;
            }
        }
        let label_style = TextStyle::from((FONT, 12).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (group, (label, _)) in bars.rows.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(x_low, groups as f64 - group as f64 - 0.5));
            root.draw(&Text::new(label.clone(), (x - 6, y), &label_style))
                .map_err(plot_error)?;
        }
        if legend > 0 {
            draw_legend(&root, &bars.series, &series_colors(bars.series.len()))?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Draws `lines` as an SVG document.
pub fn lines_svg(lines: &Lines) -> Result<String> {
    let legend: Vec<String> = lines.lines.iter().map(|line| line.name.clone()).collect();
    let legend_rows = legend.len().div_ceil(legend_columns(&legend)) as u32;
    let height = 300 + legend_rows * 18;
    // A rate axis plots log10 of the rate on a linear axis.
    let place = |x: f64| match lines.x_axis {
        XAxis::Rate(_) => x.max(1.0).log10(),
        XAxis::Nines | XAxis::Count(_) | XAxis::Steps(..) => x,
    };
    let series: Vec<Vec<(f64, f64)>> = lines
        .lines
        .iter()
        .map(|line| line.points.iter().map(|&(x, y)| (place(x), y)).collect())
        .collect();
    let whiskers: Vec<Vec<(f64, f64, f64)>> = lines
        .lines
        .iter()
        .map(|line| {
            line.whiskers
                .iter()
                .map(|&(x, low, high)| (place(x), low, high))
                .collect()
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let points = || series.iter().flatten();
        let ends = whiskers
            .iter()
            .flatten()
            .flat_map(|&(_, low, high)| [low, high]);
        let y_range = log_range(points().map(|p| p.1).chain(ends));
        let x_max = points().map(|p| p.0).fold(1.0, f64::max);
        let x_range = match &lines.x_axis {
            XAxis::Nines => NINES_START..x_max.max(2.0),
            XAxis::Count(_) => {
                let x_min = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
                (x_min - 0.2).max(0.0)..x_max + 0.2
            }
            XAxis::Rate(_) => {
                let x_min = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
                x_min.floor().min(x_max.ceil() - 1.0)..x_max.ceil()
            }
            XAxis::Steps(_, steps) => -0.3..(steps.len().max(1) as f64 - 0.7),
        };
        let (y_low, y_high) = (y_range.start, y_range.end);
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_top(8 + legend_rows * 18)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range.clone(), y_range.log_scale())
            .map_err(plot_error)?;
        let x_desc = match &lines.x_axis {
            XAxis::Nines => "percentile",
            XAxis::Count(what) | XAxis::Rate(what) | XAxis::Steps(what, _) => what.as_str(),
        };
        let y_format = |v: &f64| (lines.format)(*v);
        let mut mesh = chart.configure_mesh();
        mesh.y_desc(lines.y_axis.as_str())
            .x_desc(x_desc)
            .y_label_formatter(&y_format)
            .label_style((FONT, 12));
        mesh.x_labels(0).draw().map_err(plot_error)?;
        // Ticks where the data is: each percentile, each count measured,
        // each step, or each power of ten of a rate.
        let marks: Vec<(String, f64)> = match &lines.x_axis {
            XAxis::Nines => NINES
                .into_iter()
                .filter(|(_, x)| *x <= x_range.end)
                .map(|(name, x)| (name.to_owned(), x))
                .collect(),
            XAxis::Count(_) => {
                let mut xs: Vec<f64> = points().map(|p| p.0).collect();
                xs.sort_by(f64::total_cmp);
                xs.dedup();
                xs.into_iter().map(|x| (format!("{x:.0}"), x)).collect()
            }
            XAxis::Rate(_) => {
                let (first, last) = (x_range.start as i32, x_range.end as i32);
                (first..=last)
                    .map(|power| {
                        let x = f64::from(power);
                        (format!("{}/s", crate::format::rate(10f64.powf(x))), x)
                    })
                    .collect()
            }
            XAxis::Steps(_, steps) => steps
                .iter()
                .enumerate()
                .map(|(index, step)| (step.clone(), index as f64))
                .collect(),
        };
        {
            let style = TextStyle::from((FONT, 12).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            for (name, x) in marks {
                chart
                    .draw_series([PathElement::new(
                        vec![(x, y_low), (x, y_high)],
                        BLACK.mix(0.15).stroke_width(1),
                    )])
                    .map_err(plot_error)?;
                let (px, py) = chart.backend_coord(&(x, y_low));
                root.draw(&Text::new(name, (px, py + 4), &style))
                    .map_err(plot_error)?;
            }
        }
        let colors: Vec<RGBColor> = lines
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| lines.colors.color_of(&line.implementation, index))
            .collect();
        for (index, line) in lines.lines.iter().enumerate() {
            let line_color = colors[index];
            let style = line_color.stroke_width(2);
            for &(x, low, high) in &whiskers[index] {
                chart
                    .draw_series([PathElement::new(
                        vec![(x, low), (x, high)],
                        line_color.mix(0.6).stroke_width(1),
                    )])
                    .map_err(plot_error)?;
            }
            let points = series[index].iter().copied();
            if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))
                    .map_err(plot_error)?;
            } else {
                chart
                    .draw_series(LineSeries::new(points.clone(), style))
                    .map_err(plot_error)?;
            }
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, line_color.filled())))
                .map_err(plot_error)?;
        }
        draw_legend(&root, &legend, &colors)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Where the nines axis starts: p50.
pub const NINES_START: f64 = std::f64::consts::LOG10_2;

/// The percentiles marked on a nines axis.
const NINES: [(&str, f64); 7] = [
    ("p50", NINES_START),
    ("p90", 1.0),
    ("p99", 2.0),
    ("p99.9", 3.0),
    ("p99.99", 4.0),
    ("p99.999", 5.0),
    ("p99.9999", 6.0),
];

/// Legend entries per row: three, or fewer when the longest name (a
/// caveat-marked one) would run into the next column.
fn legend_columns(names: &[String]) -> usize {
    match names.iter().map(|name| name.chars().count()).max() {
        Some(0..=34) | None => 3,
        Some(35..=54) => 2,
        Some(_) => 1,
    }
}

/// The first `count` colours of the palette, one per bar series.
fn series_colors(count: usize) -> Vec<RGBColor> {
    (0..count).map(color).collect()
}

/// A legend across the top: a swatch and a name per series.
fn draw_legend(root: &Area<'_>, names: &[String], colors: &[RGBColor]) -> Result<()> {
    let columns = legend_columns(names);
    let style = TextStyle::from((FONT, 12).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let column = (WIDTH as i32 - 20) / columns as i32;
    for (index, name) in names.iter().enumerate() {
        let (x, y) = (
            10 + column * (index % columns) as i32,
            12 + 18 * (index / columns) as i32,
        );
        root.draw(&Rectangle::new(
            [(x, y - 5), (x + 12, y + 5)],
            colors[index].filled(),
        ))
        .map_err(plot_error)?;
        root.draw(&Text::new(name.clone(), (x + 17, y), &style))
            .map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_implementation_keeps_its_colour_whatever_the_chart() {
        let colors = Colors::of(["kanal-async", "crossbeam", "flume"]);
        assert_eq!(colors.color_of("crossbeam", 7), color(0));
        assert_eq!(colors.color_of("kanal-async", 0), color(2));
        assert_eq!(colors.color_of("unknown", 4), color(4));
    }

    #[test]
    fn a_log_axis_stays_finite_and_a_few_decades_wide_whatever_the_values() {
        let range = log_range([1.0, 1e308].into_iter());
        assert!(range.end.is_finite() && range.end >= 1e308);
        assert!(range.end / range.start <= 10f64.powf(MOST_DECADES) * 1.01);
        assert_eq!(log_range([20.0, 3000.0].into_iter()), 10.0..10_000.0);
        assert_eq!(log_range([f64::NAN, -1.0].into_iter()), 1.0..10.0);
    }
}
