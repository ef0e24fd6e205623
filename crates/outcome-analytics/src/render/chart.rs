//! Inline SVG bar charts for the HTML page: vertical grouped bars (categories along the x axis:
//! days, severities) and horizontal bars (one row per pipeline). Pure SVG: no script, no
//! external font or stylesheet. Every bar is a `<rect class="bar">` carrying `data-series`,
//! `data-category` and `data-value`, with a `<title>` tooltip; a value without data draws no
//! bar but an `n/a` label. Coordinates are printed with two decimals, so output is
//! byte-identical everywhere.

use super::markup::escape;
use super::text::NO_DATA;
use crate::rounding::Rounded2;
use std::fmt::Write;

/// One series of values, one per category.
#[derive(Debug)]
pub(super) struct Series<'a> {
    /// Machine name (`data-series`).
    pub key: &'a str,
    /// Legend label.
    pub label: &'a str,
    /// Fill colour.
    pub color: &'a str,
    /// One value per category; `None` draws `n/a`.
    pub values: Vec<Option<Rounded2>>,
}

/// A bar chart.
#[derive(Debug)]
pub(super) struct Chart<'a> {
    /// Machine name (`data-chart`).
    pub id: &'a str,
    /// Accessible title.
    pub title: &'a str,
    /// Appended to values in labels and tooltips (`" h"`, `" %"`, `""`).
    pub unit: &'a str,
    /// Values are counts: integer axis ticks, values shown without decimals.
    pub counts: bool,
    /// (short label on the axis, full label in tooltips and `data-category`).
    pub categories: Vec<(String, String)>,
    pub series: Vec<Series<'a>>,
    /// Shown instead of bars when there is no category.
    pub empty_message: &'a str,
}

const WIDTH: f64 = 960.0;
const FONT: &str =
    r#"font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12""#;
const AXIS_COLOR: &str = "#9aa5b1";
const GRID_COLOR: &str = "#e4e7eb";
const TEXT_COLOR: &str = "#334e68";

impl Chart<'_> {
    fn value_text(&self, value: Rounded2) -> String {
        format!("{}{}", format_value(value, self.counts), self.unit)
    }

    fn max_hundredths(&self) -> i64 {
        self.series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .map(|v| v.hundredths())
            .max()
            .unwrap_or(0)
            .max(0)
    }

    fn open_svg(&self, svg: &mut String, height: f64) {
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{id}" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{title}" {FONT} fill="{TEXT_COLOR}"><title>{title}</title>"#,
            id = escape(self.id),
            title = escape(self.title),
            height = num(height),
        );
    }

    fn legend(&self, svg: &mut String, x: f64, y: f64) {
        if self.series.len() < 2 {
            return;
        }
        let mut x = x;
        for s in &self.series {
            let _ = write!(
                svg,
                r#"<g class="legend-item"><rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text></g>"#,
                num(x),
                num(y - 10.0),
                escape(s.color),
                num(x + 16.0),
                num(y),
                escape(s.label),
            );
            x += 24.0 + 7.0 * s.label.chars().count() as f64;
        }
    }

    fn empty(&self) -> String {
        let mut svg = String::new();
        self.open_svg(&mut svg, 60.0);
        let _ = write!(
            svg,
            r#"<text class="empty" x="{}" y="34" text-anchor="middle">{}</text></svg>"#,
            num(WIDTH / 2.0),
            escape(self.empty_message),
        );
        svg
    }

    /// Grouped vertical bars: categories along the x axis, one bar per series in each group.
    pub(super) fn vertical(&self) -> String {
        if self.categories.is_empty() {
            return self.empty();
        }
        const HEIGHT: f64 = 300.0;
        const LEFT: f64 = 64.0;
        const RIGHT: f64 = 16.0;
        const TOP: f64 = 36.0;
        const BOTTOM: f64 = 44.0;
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let base = TOP + plot_h;
        let (step, steps) = axis(self.max_hundredths(), self.counts);
        let top = step.saturating_mul(steps);
        let scale = |h: i64| plot_h * h as f64 / top as f64;

        let mut svg = String::with_capacity(4096 + 400 * self.categories.len());
        self.open_svg(&mut svg, HEIGHT);
        self.legend(&mut svg, LEFT, 16.0);
        // Grid lines and y ticks.
        for tick in ticks(step, steps) {
            let y = base - scale(tick);
            let _ = write!(
                svg,
                r#"<line class="grid" x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID_COLOR}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
                num(LEFT),
                num(WIDTH - RIGHT),
                num(LEFT - 8.0),
                num(y + 4.0),
                format_tick(tick),
                y = num(y),
            );
        }
        let n = self.categories.len();
        let slot = plot_w / n as f64;
        let group = slot * 0.8;
        let bar_w = group / self.series.len().max(1) as f64;
        let label_every = n.div_ceil(16);
        let show_values = n * self.series.len() <= 16;
        for (i, (short, full)) in self.categories.iter().enumerate() {
            let slot_x = LEFT + slot * i as f64;
            for (j, s) in self.series.iter().enumerate() {
                let x = slot_x + slot * 0.1 + bar_w * j as f64;
                let center = x + bar_w / 2.0;
                match s.values.get(i).copied().flatten() {
                    Some(value) => {
                        let h = scale(value.hundredths().max(0));
                        let text = self.value_text(value);
                        let _ = write!(
                            svg,
                            r#"<rect class="bar" data-series="{key}" data-category="{cat}" data-value="{data}" x="{x}" y="{y}" width="{w}" height="{h}" fill="{color}"><title>{cat} · {label}: {text}</title></rect>"#,
                            key = escape(s.key),
                            cat = escape(full),
                            x = num(x),
                            y = num(base - h),
                            w = num(bar_w),
                            h = num(h),
                            color = escape(s.color),
                            label = escape(s.label),
                            data = format_value(value, self.counts),
                        );
                        if show_values {
                            let _ = write!(
                                svg,
                                r#"<text class="value" x="{}" y="{}" text-anchor="middle">{text}</text>"#,
                                num(center),
                                num(base - h - 4.0),
                            );
                        }
                    }
                    None => {
                        let _ = write!(
                            svg,
                            r#"<text class="no-data" data-series="{}" data-category="{}" x="{}" y="{}" text-anchor="middle">{NO_DATA}</text>"#,
                            escape(s.key),
                            escape(full),
                            num(center),
                            num(base - 4.0),
                        );
                    }
                }
            }
            if i % label_every == 0 {
                let _ = write!(
                    svg,
                    r#"<text class="category" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                    num(slot_x + slot / 2.0),
                    num(base + 18.0),
                    escape(short),
                );
            }
        }
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="{AXIS_COLOR}"/></svg>"#,
            l = num(LEFT),
            r = num(WIDTH - RIGHT),
            b = num(base),
        );
        svg
    }

    /// Horizontal bars of the first series: one row per category, labels on the left.
    pub(super) fn horizontal(&self) -> String {
        let Some(series) = self.series.first() else {
            return self.empty();
        };
        if self.categories.is_empty() {
            return self.empty();
        }
        const ROW: f64 = 28.0;
        const BAR: f64 = 18.0;
        const LEFT: f64 = 208.0;
        const RIGHT: f64 = 96.0;
        const TOP: f64 = 8.0;
        const BOTTOM: f64 = 28.0;
        let plot_w = WIDTH - LEFT - RIGHT;
        let rows = self.categories.len() as f64;
        let height = TOP + ROW * rows + BOTTOM;
        let base = TOP + ROW * rows;
        let (step, steps) = axis(self.max_hundredths(), self.counts);
        let top = step.saturating_mul(steps);
        let scale = |h: i64| plot_w * h as f64 / top as f64;

        let mut svg = String::with_capacity(2048 + 400 * self.categories.len());
        self.open_svg(&mut svg, height);
        for tick in ticks(step, steps) {
            let x = LEFT + scale(tick);
            let _ = write!(
                svg,
                r#"<line class="grid" x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{GRID_COLOR}"/><text class="tick" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                num(TOP),
                num(base),
                num(base + 18.0),
                format_tick(tick),
                x = num(x),
            );
        }
        for (i, (short, full)) in self.categories.iter().enumerate() {
            let row_y = TOP + ROW * i as f64;
            let center = row_y + ROW / 2.0;
            let _ = write!(
                svg,
                r#"<text class="category" x="{}" y="{}" text-anchor="end">{}</text>"#,
                num(LEFT - 8.0),
                num(center + 4.0),
                escape(short),
            );
            match series.values.get(i).copied().flatten() {
                Some(value) => {
                    let w = scale(value.hundredths().max(0));
                    let text = self.value_text(value);
                    let _ = write!(
                        svg,
                        r#"<rect class="bar" data-series="{key}" data-category="{cat}" data-value="{data}" x="{x}" y="{y}" width="{w}" height="{BAR}" fill="{color}"><title>{cat} · {label}: {text}</title></rect><text class="value" x="{tx}" y="{ty}">{text}</text>"#,
                        key = escape(series.key),
                        cat = escape(full),
                        x = num(LEFT),
                        y = num(center - BAR / 2.0),
                        w = num(w),
                        color = escape(series.color),
                        label = escape(series.label),
                        data = format_value(value, self.counts),
                        tx = num(LEFT + w + 6.0),
                        ty = num(center + 4.0),
                    );
                }
                None => {
                    let _ = write!(
                        svg,
                        r#"<text class="no-data" data-series="{}" data-category="{}" x="{}" y="{}">{NO_DATA}</text>"#,
                        escape(series.key),
                        escape(full),
                        num(LEFT + 6.0),
                        num(center + 4.0),
                    );
                }
            }
        }
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="{AXIS_COLOR}"/></svg>"#,
            l = num(LEFT),
            t = num(TOP),
            b = num(base),
        );
        svg
    }
}

/// A coordinate with two decimals (Rust's float formatting is exact and platform independent).
fn num(value: f64) -> String {
    format!("{value:.2}")
}

/// A value as labels show it: counts without decimals, other values with two.
fn format_value(value: Rounded2, counts: bool) -> String {
    if counts && value.hundredths() % 100 == 0 {
        (value.hundredths() / 100).to_string()
    } else {
        value.to_string()
    }
}

/// An axis tick: as few decimals as the value needs (`0`, `2.5`, `0.25`).
fn format_tick(hundredths: i64) -> String {
    let whole = hundredths / 100;
    let fraction = hundredths % 100;
    if fraction == 0 {
        whole.to_string()
    } else if fraction % 10 == 0 {
        format!("{whole}.{}", fraction / 10)
    } else {
        format!("{whole}.{fraction:02}")
    }
}

/// The axis for values up to `max` hundredths: the smallest step of the 1-2-5 series (at least
/// 1 for counts) that covers `max` in at most five steps, and the number of steps (at least 1).
/// The top tick is `step × steps`.
fn axis(max: i64, counts: bool) -> (i64, i64) {
    let max = max.max(0);
    let min_step: i64 = if counts { 100 } else { 1 };
    let mut power: i64 = 1;
    loop {
        for m in [1, 2, 5] {
            let step = power.saturating_mul(m);
            if step >= min_step && step.saturating_mul(5) >= max {
                let steps = max / step + i64::from(max % step != 0);
                return (step, steps.max(1));
            }
        }
        power = power.saturating_mul(10);
    }
}

/// The tick values of an axis, from 0 to the top.
fn ticks(step: i64, steps: i64) -> impl Iterator<Item = i64> {
    (0..=steps).map(move |k| step.saturating_mul(k))
}

#[cfg(test)]
mod tests {
    use super::{axis, format_tick};

    #[test]
    fn axes_use_one_two_five_steps() {
        assert_eq!(axis(0, true), (100, 1));
        assert_eq!(axis(300, true), (100, 3));
        assert_eq!(axis(700, true), (200, 4));
        assert_eq!(axis(10_000, false), (2000, 5));
        assert_eq!(axis(3333, false), (1000, 4));
        assert_eq!(axis(25, false), (5, 5));
        assert_eq!(axis(0, false), (1, 1));
        let (step, steps) = axis(i64::MAX, false);
        assert!(step.saturating_mul(steps) == i64::MAX);
    }

    #[test]
    fn ticks_drop_needless_decimals() {
        assert_eq!(format_tick(0), "0");
        assert_eq!(format_tick(250), "2.5");
        assert_eq!(format_tick(25), "0.25");
        assert_eq!(format_tick(1000), "10");
    }
}
