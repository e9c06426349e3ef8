//! The suite's results: one row per figure, with the bare baseline beside it, the ratio, and
//! the target it is held to.

use std::fmt;

use serde::Serialize;

use crate::stats::Spread;

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds (lower is better).
    Millis,
    /// Microseconds (lower is better).
    Micros,
    /// Nanoseconds (lower is better).
    Nanos,
    /// Operations or events per second (higher is better).
    PerSecond,
    /// Bytes (lower is better).
    Bytes,
    /// Mebibytes (lower is better).
    Mebibytes,
    /// A count (lower is better: RPCs made, events missed).
    Count,
}

impl Unit {
    fn suffix(self) -> &'static str {
        match self {
            Unit::Millis => " ms",
            Unit::Micros => " µs",
            Unit::Nanos => " ns",
            Unit::PerSecond => "/s",
            Unit::Bytes => " B",
            Unit::Mebibytes => " MiB",
            Unit::Count => "",
        }
    }

    fn format(self, value: f64) -> String {
        let number = if value >= 100_000.0 {
            group_thousands(value.round() as u64)
        } else if value >= 100.0 {
            format!("{value:.0}")
        } else if value >= 10.0 {
            format!("{value:.1}")
        } else {
            format!("{value:.2}")
        };
        format!("{number}{}", self.suffix())
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// What a figure is held to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "limit")]
pub enum Target {
    /// SDK median / bare median must not exceed this.
    RatioAtMost(f64),
    /// SDK median / bare median must reach this.
    RatioAtLeast(f64),
    /// The SDK median must not exceed this (in the row's unit).
    AtMost(f64),
}

impl Target {
    /// The target in words; `baseline` names what the ratio is to.
    fn describe(self, unit: Unit, baseline: &str) -> String {
        match self {
            Target::RatioAtMost(limit) => format!("≤ {limit}× {baseline}"),
            Target::RatioAtLeast(limit) => format!("≥ {:.0} % of {baseline}", limit * 100.0),
            Target::AtMost(limit) => format!("≤ {}", unit.format(limit)),
        }
    }
}

/// One figure: the SDK's runs, the bare baseline's runs of the same work, and its target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What was measured.
    pub figure: String,
    /// Its unit.
    pub unit: Unit,
    /// One value per run.
    pub sdk: Vec<f64>,
    /// The bare tonic client's values for the same work, when there is a baseline.
    pub bare: Vec<f64>,
    /// What `bare` holds when the baseline is not the bare tonic client (`raw events()`: the
    /// same events through the SDK's plain subscriber); `None` for bare tonic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// What it is held to.
    pub target: Option<Target>,
    /// Anything the figure needs said (events missed, RPCs made, skipped runs).
    pub note: Option<String>,
}

impl Row {
    /// A row without a baseline.
    pub fn new(figure: impl Into<String>, unit: Unit) -> Self {
        Self {
            figure: figure.into(),
            unit,
            sdk: Vec::new(),
            bare: Vec::new(),
            baseline: None,
            target: None,
            note: None,
        }
    }

    /// With a target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// With a baseline other than the bare tonic client, named `name` in the table.
    pub fn baseline(mut self, name: impl Into<String>) -> Self {
        self.baseline = Some(name.into());
        self
    }

    /// SDK median divided by bare median, when both were measured.
    pub fn ratio(&self) -> Option<f64> {
        let sdk = Spread::of(&self.sdk)?.median;
        let bare = Spread::of(&self.bare)?.median;
        (bare > 0.0).then(|| sdk / bare)
    }

    /// Whether the target is met; `None` without a target or without the figures it needs.
    pub fn met(&self) -> Option<bool> {
        let sdk = Spread::of(&self.sdk)?.median;
        match self.target? {
            Target::RatioAtMost(limit) => self.ratio().map(|ratio| ratio <= limit),
            Target::RatioAtLeast(limit) => self.ratio().map(|ratio| ratio >= limit),
            Target::AtMost(limit) => Some(sdk <= limit),
        }
    }

    fn spread(&self, values: &[f64]) -> String {
        match Spread::of(values) {
            None => "–".into(),
            Some(spread) if values.len() == 1 => self.unit.format(spread.median),
            Some(spread) => format!(
                "{} ({}–{})",
                self.unit.format(spread.median),
                self.unit.format(spread.min),
                self.unit.format(spread.max)
            ),
        }
    }
}

/// Every figure of one suite run, with where it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The machine, the build and the service.
    pub environment: String,
    /// Runs per figure.
    pub runs: usize,
    /// The figures, in the order they were measured.
    pub rows: Vec<Row>,
}

impl Report {
    /// Rows whose target was missed.
    pub fn missed(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|row| row.met() == Some(false))
    }
}

impl fmt::Display for Report {
    /// A Markdown table: median (min–max) of the runs, for the SDK and the bare baseline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}; {} runs per figure", self.environment, self.runs)?;
        writeln!(f)?;
        writeln!(
            f,
            "| figure | SDK median (min–max) | bare tonic median (min–max) | SDK / bare | target | met |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for row in &self.rows {
            let ratio = row
                .ratio()
                .map_or_else(|| "–".into(), |ratio| format!("{ratio:.2}"));
            let baseline = row.baseline.as_deref();
            let target = row.target.map_or_else(
                || "–".into(),
                |target| target.describe(row.unit, baseline.unwrap_or("bare")),
            );
            let met = match row.met() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            let figure = match &row.note {
                Some(note) => format!("{} ({note})", row.figure),
                None => row.figure.clone(),
            };
            let bare = match baseline {
                Some(name) if !row.bare.is_empty() => {
                    format!("{name}: {}", row.spread(&row.bare))
                }
                _ => row.spread(&row.bare),
            };
            writeln!(
                f,
                "| {figure} | {} | {bare} | {ratio} | {target} | {met} |",
                row.spread(&row.sdk),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_targets() {
        let mut row = Row::new("unary p50", Unit::Micros).target(Target::RatioAtMost(1.3));
        row.sdk = vec![120.0, 100.0, 140.0];
        row.bare = vec![100.0, 90.0, 110.0];
        assert_eq!(row.ratio(), Some(1.2));
        assert_eq!(row.met(), Some(true));
        row.sdk = vec![200.0];
        assert_eq!(row.met(), Some(false));

        let mut rate = Row::new("rate", Unit::PerSecond).target(Target::RatioAtLeast(0.7));
        rate.sdk = vec![60.0];
        rate.bare = vec![100.0];
        assert_eq!(rate.met(), Some(false));
        rate.bare.clear();
        assert_eq!(rate.met(), None, "no baseline, no verdict");

        // `--json`: the baseline is named only when it is not bare tonic.
        let json = serde_json::to_value(&rate).unwrap();
        assert!(json.get("baseline").is_none(), "{json}");
        let json = serde_json::to_value(rate.baseline("raw events()")).unwrap();
        assert_eq!(json["baseline"], "raw events()");
    }

    #[test]
    fn the_table_shows_spreads_and_verdicts() {
        let mut row = Row::new("getter", Unit::Nanos).target(Target::AtMost(1000.0));
        row.sdk = vec![150.0, 120.0, 400.0];
        let report = Report {
            environment: "test".into(),
            runs: 3,
            rows: vec![row],
        };
        let table = report.to_string();
        assert!(
            table.contains("| getter | 150 ns (120 ns–400 ns) | – | – | ≤ 1000 ns | yes |"),
            "{table}"
        );
        assert_eq!(report.missed().count(), 0);

        let mut other = Row::new("trait", Unit::PerSecond)
            .baseline("raw events()")
            .target(Target::RatioAtLeast(0.8));
        other.sdk = vec![90.0];
        other.bare = vec![100.0];
        let table = Report {
            environment: "test".into(),
            runs: 1,
            rows: vec![other],
        }
        .to_string();
        assert!(
            table.contains(
                "| trait | 90.0/s | raw events(): 100/s | 0.90 | ≥ 80 % of raw events() | yes |"
            ),
            "{table}"
        );
        assert_eq!(Unit::PerSecond.format(1_234_567.0), "1,234,567/s");
    }
}
