//! Charts as inline SVG, drawn on the server: no script, no remote library. Colours come from
//! the stylesheet (classes `s0`…`s3`), so the markup carries no inline style.

use crate::html::esc;
use std::fmt::Write;

/// One named series of values, one per x position.
pub struct Series<'a> {
    /// Legend name.
    pub name: &'a str,
    /// Values (non-negative; NaN is drawn as 0).
    pub values: Vec<f64>,
}

/// How the series are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A line per series.
    Line,
    /// Grouped bars per x position.
    Bars,
}

const W: f64 = 960.0;
const H: f64 = 250.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 34.0;

/// How gridlines are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// 1, 2 or 5 × 10^k (tokens, percentages).
    Decimal,
    /// Powers of two (bytes).
    Binary,
}

/// The smallest round step at or above `max / 4`, so four gridlines cover the data.
fn tick_step(max: f64, scale: Scale) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / 4.0;
    if scale == Scale::Binary {
        return 2f64.powf(raw.log2().ceil()).max(1.0);
    }
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

/// An SVG chart titled `title` with x labels `x` (every few shown) and y ticks formatted by
/// `fmt`. An empty chart says so instead of drawing axes over nothing.
pub fn chart(
    title: &str,
    kind: Kind,
    scale: Scale,
    x: &[String],
    series: &[Series],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><text class=\"title\" x=\"{LEFT}\" y=\"16\">{t}</text>",
        t = esc(title)
    );
    let n = x.len();
    let clean = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied().map(clean))
        .fold(0.0, f64::max);
    if n == 0 || series.is_empty() {
        let _ = write!(
            s,
            "<text class=\"axis\" x=\"{}\" y=\"{}\">no data yet</text></svg></figure>",
            W / 2.0 - 30.0,
            H / 2.0
        );
        return s;
    }
    let step = tick_step(max, scale);
    let top = (max / step).ceil().max(1.0) * step;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let y = |v: f64| TOP + ph - clean(v) / top * ph;
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        let yy = y(tick);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            esc(&fmt(tick))
        );
        tick += step;
    }
    let slot = pw / n as f64;
    let cx = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let every = n.div_ceil(8).max(1);
    for (i, label) in x.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let _ = write!(
                s,
                "<text class=\"axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                cx(i),
                H - BOTTOM + 16.0,
                esc(label)
            );
        }
    }
    for (k, ser) in series.iter().enumerate() {
        let class = format!("s{}", k % 4);
        match kind {
            Kind::Line => {
                let pts: Vec<String> = (0..n)
                    .map(|i| format!("{:.1},{:.1}", cx(i), y(*ser.values.get(i).unwrap_or(&0.0))))
                    .collect();
                let _ = write!(
                    s,
                    "<polyline class=\"line {class}\" points=\"{}\"/>",
                    pts.join(" ")
                );
                if n == 1 {
                    let _ = write!(
                        s,
                        "<circle class=\"dot {class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                        cx(0),
                        y(ser.values[0])
                    );
                }
            }
            Kind::Bars => {
                let bw = (slot * 0.8) / series.len() as f64;
                for (i, label) in x.iter().enumerate() {
                    let v = *ser.values.get(i).unwrap_or(&0.0);
                    let x0 = LEFT + slot * i as f64 + slot * 0.1 + bw * k as f64;
                    let y0 = y(v);
                    let _ = write!(
                        s,
                        "<rect class=\"bar {class}\" x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{bw:.1}\" \
                         height=\"{:.1}\"><title>{}: {}</title></rect>",
                        TOP + ph - y0,
                        esc(label),
                        esc(&fmt(clean(v)))
                    );
                }
            }
        }
    }
    s.push_str("</svg><figcaption>");
    for (k, ser) in series.iter().enumerate() {
        let _ = write!(s, "<span class=\"key s{}\">{}</span>", k % 4, esc(ser.name));
    }
    s.push_str("</figcaption></figure>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(100.0, Scale::Decimal), 50.0);
        assert_eq!(tick_step(4.0, Scale::Decimal), 1.0);
        assert_eq!(tick_step(0.0, Scale::Decimal), 1.0);
        assert_eq!(tick_step(f64::NAN, Scale::Binary), 1.0);
        assert_eq!(tick_step(2048.0, Scale::Binary), 512.0);
        assert_eq!(tick_step(3000.0, Scale::Binary), 1024.0);
    }

    #[test]
    fn draws_each_series_and_escapes_labels() {
        let x = vec!["d<1>".to_string(), "d2".into()];
        let s = [
            Series {
                name: "minted",
                values: vec![1.0, 3.0],
            },
            Series {
                name: "burnt & fees",
                values: vec![0.0, f64::NAN],
            },
        ];
        let line = chart("T", Kind::Line, Scale::Decimal, &x, &s, &|v| format!("{v}"));
        assert_eq!(line.matches("<polyline").count(), 2);
        assert!(line.contains("d&lt;1&gt;") && line.contains("burnt &amp; fees"));
        let bars = chart("T", Kind::Bars, Scale::Decimal, &x, &s, &|v| format!("{v}"));
        assert_eq!(bars.matches("<rect").count(), 4);
        assert!(!bars.contains("NaN"));
        assert!(
            chart("T", Kind::Line, Scale::Decimal, &[], &s, &|v| format!(
                "{v}"
            ))
            .contains("no data yet")
        );
    }
}
