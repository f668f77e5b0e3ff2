//! Scenarios: the TOML file a user writes, parsed strictly and validated into the
//! [`Scenario`] the engine alone accepts.
//!
//! Parsing happens in two steps (raw serde mirror, then `validate`), so that single values
//! are rejected by the parser with their line and column, and checks across fields (shares
//! summing to 1, a model's required parameters, unique names) run afterwards with the line
//! found through the [`locate::Locator`].

pub mod behaviour;
pub mod calculator;
pub mod design;
mod limits;
pub mod locate;
pub mod raw;
pub mod seasonality;
pub mod units;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use design::{Design, Kind};
pub use raw::{Period, TimeUnit};

use crate::{Error, Result};
use locate::Locator;
use raw::{PurchaseModelName, RawScenario, RawSegment, SpendModelName};

/// The scenario compiled into the binary (`scenarios/default.toml`), run when no file is given.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");
/// How the embedded default scenario is named in messages.
pub const DEFAULT_ORIGIN: &str = "<embedded default scenario>";

/// A validated scenario: everything a run needs, in engine units.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name (used for the output folder slug).
    pub name: String,
    /// Where it came from: a file path or [`DEFAULT_ORIGIN`].
    pub origin: String,
    /// SHA-256 of the scenario text, hex.
    pub sha256: String,
    /// Master seed.
    pub seed: u64,
    /// Independent Monte Carlo replicates.
    pub replicates: u32,
    /// Simulated days.
    pub horizon_days: u32,
    /// Reporting period of the time series.
    pub period: Period,
    /// Who the customers are.
    pub population: Population,
    /// Product categories with their own margin (the rest of the spend has the segment's).
    pub categories: Vec<Category>,
    /// Candidate designs; `designs[control]` is the baseline.
    pub designs: Vec<Design>,
    /// Index of the control design (the first with `kind = "none"`).
    pub control: usize,
    /// `[uncertainty]`: the worlds to draw and the uncertain inputs (`None`: one world).
    pub uncertainty: Option<crate::uncertainty::Spec>,
    /// `[finance]`: the objective decisions maximise.
    pub finance: crate::finance::Finance,
}

/// `[population]`, validated.
#[derive(Debug, Clone)]
pub struct Population {
    /// Existing customers at day 0 (each makes a first purchase on day 0).
    pub customers: u64,
    /// Poisson arrivals of new customers, if any.
    pub acquisition: Option<Acquisition>,
    /// Segments; shares sum to 1.
    pub segments: Vec<Segment>,
    /// The store's own customers at day 0, from `[population.base]` (issue 14): customer
    /// ids 0..n, before the synthetic `customers`.
    pub base: Option<crate::base::Base>,
    /// Years of simulated history of the synthetic day-0 customers (`population.tenure`,
    /// issue 14); 0: they are new customers with a purchase on day 0.
    pub tenure_years: f64,
}

impl Population {
    /// Customers in the base table (0 without one).
    pub fn base_len(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.customers.len() as u64)
    }
}

/// A product category: a fixed share of every order's spend with its own gross margin
/// (e.g. a high-margin private label). Designs can put a points multiplier on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Unique name.
    pub name: String,
    /// Share of each order's value.
    pub share_of_spend: f64,
    /// Gross margin on that share.
    pub margin: f64,
}

/// New customers arriving over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Acquisition {
    /// Poisson arrival rate per day.
    pub per_day: f64,
    /// Acquisition cost (CAC) per new customer, in cents.
    pub cost_per_customer_cents: i64,
}

/// A customer segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Unique name.
    pub name: String,
    /// Share of customers (initial and acquired).
    pub share: f64,
    /// Gross margin on revenue, in [0, 1].
    pub margin: f64,
    /// Purchase-count model.
    pub purchase: PurchaseModel,
    /// Order-value model.
    pub spend: SpendModel,
    /// Deal seeking: a member's purchase rate is multiplied by 1 + elasticity x the
    /// design's benefit rate (discounts, cashback, points payback). 0 for service-oriented
    /// customers; large for price-oriented ones (Kopalle et al. 2012).
    pub discount_elasticity: f64,
    /// Multiplier on dropout, for good, once a member's benefits are cut (a cashback rate
    /// drop, a lapsed membership, a tier demotion): deal seekers leave when the deal does.
    pub benefit_cut_dropout: f64,
    /// Share of orders returned within the return window (issue 17): refunded in full, and
    /// the program never sees them (no points, stamps or tier spend: pending points simply
    /// never become available). The same for the control and every design.
    pub return_rate: f64,
    /// How calculator-style inputs were turned into the models (issue 14; empty otherwise),
    /// shown by `check` and in the report's assumptions.
    pub derived: Vec<String>,
    /// Issue 17: month or weekday factors on the purchase rate (control and designs alike).
    pub seasonality: Option<seasonality::Seasonality>,
}

impl Segment {
    /// Mean purchase rate per day of the segment (r / alpha per unit).
    pub fn mean_rate_per_day(&self) -> f64 {
        match self.purchase {
            PurchaseModel::BgNbd { r, alpha, unit, .. }
            | PurchaseModel::ParetoNbd { r, alpha, unit, .. } => r / (alpha * unit.days()),
        }
    }
}

/// Buy-till-you-die purchase models, parameters as published (rates per `unit`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PurchaseModel {
    /// BG/NBD (Fader, Hardie & Lee 2005): lambda ~ Gamma(r, rate alpha); after each repeat
    /// purchase the customer drops out with probability p ~ Beta(a, b).
    BgNbd {
        /// Shape of the purchase-rate distribution.
        r: f64,
        /// Rate (inverse scale) of the purchase-rate distribution, in `unit`s.
        alpha: f64,
        /// Beta shape a of the dropout probability.
        a: f64,
        /// Beta shape b of the dropout probability.
        b: f64,
        /// Time unit of the rates.
        unit: TimeUnit,
    },
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): lambda ~ Gamma(r, rate alpha);
    /// lifetime ~ Exponential(mu), mu ~ Gamma(s, rate beta).
    ParetoNbd {
        /// Shape of the purchase-rate distribution.
        r: f64,
        /// Rate of the purchase-rate distribution, in `unit`s.
        alpha: f64,
        /// Shape of the dropout-rate distribution.
        s: f64,
        /// Rate of the dropout-rate distribution, in `unit`s.
        beta: f64,
        /// Time unit of the rates.
        unit: TimeUnit,
    },
}

/// Order-value models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpendModel {
    /// Gamma-gamma (Fader, Hardie & Lee 2005): order value ~ Gamma(p, rate nu) with a
    /// per-customer nu ~ Gamma(q, rate gamma).
    GammaGamma {
        /// Shape of each order value.
        p: f64,
        /// Shape of the customer's nu.
        q: f64,
        /// Rate of the customer's nu.
        gamma: f64,
    },
    /// Log-normal order values with the given mean and coefficient of variation.
    LogNormal {
        /// Mean order value.
        mean: f64,
        /// Coefficient of variation (sd / mean).
        cv: f64,
    },
    /// Every order has this value.
    Fixed {
        /// Order value.
        value: f64,
    },
}

impl SpendModel {
    /// Expected order value of a random customer (infinite for gamma-gamma with q <= 1).
    pub fn mean(&self) -> f64 {
        match *self {
            SpendModel::GammaGamma { p, q, gamma } => {
                if q > 1.0 {
                    p * gamma / (q - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            SpendModel::LogNormal { mean, .. } => mean,
            SpendModel::Fixed { value } => value,
        }
    }
}

/// Overrides from the command line, applied after validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--replicates`.
    pub replicates: Option<u32>,
    /// `--customers`.
    pub customers: Option<u64>,
    /// With `customers`: scale the business with it, so a scaled-down run is the same
    /// business in miniature (see [`Scenario::scale_business`]). `run --customers` sets it.
    pub scale_with_customers: bool,
}

impl Scenario {
    /// Read and validate a scenario file.
    /// `-` reads the scenario from standard input.
    pub fn from_file(path: &Path) -> Result<Self> {
        let src = read_text(path)?;
        Self::parse(&src, &origin_name(path))
    }

    /// The embedded default scenario.
    pub fn embedded_default() -> Result<Self> {
        Self::parse(DEFAULT_SCENARIO, DEFAULT_ORIGIN)
    }

    /// Parse and validate scenario text; `origin` names it in error messages. Numbers may
    /// be distributions (see [`crate::uncertainty`]); the scenario then holds their medians.
    pub fn parse(src: &str, origin: &str) -> Result<Self> {
        crate::uncertainty::parse_scenario(src, origin)
    }

    /// Parse and validate scenario text in which every value is a plain number.
    pub(crate) fn parse_plain(src: &str, origin: &str) -> Result<Self> {
        let loc = Locator::new(src);
        let tree: toml::Table = toml::from_str(src).map_err(|e| toml_error(&loc, origin, &e))?;
        limits::check_sizes(&Checker { loc: &loc, origin }, &tree)?;
        let raw: RawScenario = toml::from_str(src).map_err(|e| toml_error(&loc, origin, &e))?;
        let sha256 = hex(&Sha256::digest(src.as_bytes()));
        validate(raw, &loc, origin, sha256)
    }

    /// Apply command-line overrides, with the same limits as the file's fields.
    pub fn apply(&mut self, o: Overrides) -> Result<()> {
        if let Some(seed) = o.seed {
            self.seed = seed;
        }
        if let Some(r) = o.replicates {
            self.replicates = units::Replicates::try_from(i64::from(r))
                .map_err(|m| Error::Usage(format!("--replicates {m}")))?
                .0;
        }
        if let Some(c) = o.customers {
            let before = self.population.customers;
            self.population.customers = i64::try_from(c)
                .map_err(|_| format!("must be at most {}", units::MAX_CUSTOMERS))
                .and_then(units::Customers::try_from)
                .map_err(|m| Error::Usage(format!("--customers {m}")))?
                .0;
            if o.scale_with_customers && before > 0 {
                self.scale_business(self.population.customers as f64 / before as f64);
            }
        }
        Ok(())
    }

    /// Scale what does not grow with the initial customers by `factor`: the acquisition
    /// rates (the population's and each design's extra) and each design's fixed program
    /// costs (launch, platform per month, rounded to the cent). Per-customer quantities
    /// scale by themselves, so CRR, payback and ROI are the same in expectation and money
    /// totals scale by `factor` (issue 18: without it a tenth of the customers with the
    /// full acquisition rate gave CRR -91).
    pub fn scale_business(&mut self, factor: f64) {
        if let Some(a) = &mut self.population.acquisition {
            a.per_day *= factor;
        }
        for d in &mut self.designs {
            if let Some(a) = &mut d.acquisition {
                a.per_day *= factor;
            }
            d.costs.launch_cents = (d.costs.launch_cents as f64 * factor).round() as i64;
            d.costs.platform_per_month_cents =
                (d.costs.platform_per_month_cents as f64 * factor).round() as i64;
        }
    }

    /// The control design.
    pub fn control_design(&self) -> &Design {
        &self.designs[self.control]
    }

    /// A file-system friendly version of the name: lowercase ASCII letters, digits and `-`.
    pub fn slug(&self) -> String {
        slug(&self.name)
    }

    /// Expected number of acquired customers over the horizon.
    pub fn expected_acquired(&self) -> f64 {
        self.population
            .acquisition
            .as_ref()
            .map_or(0.0, |a| a.per_day * f64::from(self.horizon_days))
    }

    /// Number of reporting periods (the last may be partial).
    pub fn periods(&self) -> usize {
        (f64::from(self.horizon_days) / self.period.days()).ceil() as usize
    }
}

/// How a file is named in messages (`<stdin>` for `-`).
pub fn origin_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}

/// Read a TOML input file (`-`: standard input) as UTF-8 text. A byte that is not UTF-8
/// (a Latin-1 export, say) is a configuration error with its line, not an I/O failure.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = if path == Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| Error::io("<stdin>", e))?;
        b
    } else {
        std::fs::read(path).map_err(|e| Error::io(path, e))?
    };
    String::from_utf8(bytes).map_err(|e| {
        let ok = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        Error::Scenario {
            path: origin_name(path),
            line: Some(bytes[..ok].iter().filter(|&&b| b == b'\n').count() + 1),
            field: "(encoding)".into(),
            message: format!(
                "byte 0x{:02x} at offset {ok} is not UTF-8; save the file as UTF-8",
                bytes[ok]
            ),
        }
    })
}

/// Lowercase, `-`-separated slug of a name (`"CDNOW-like store"` -> `cdnow-like-store`).
/// Letters and digits of any script are kept (`"Café Zürich"` -> `café-zürich`), so two
/// scenarios never share a default output folder only because their names are not ASCII; a
/// name with no letter or digit at all gets `scenario-` and 8 hex digits of its SHA-256.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
        if s.len() >= 100 {
            break;
        }
    }
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() {
        let digest = hex(&Sha256::digest(name.as_bytes()));
        s = format!("scenario-{}", &digest[..8]);
    }
    s
}

/// SHA-256 of a scenario text, hex.
pub(crate) fn sha256_hex(src: &str) -> String {
    hex(&Sha256::digest(src.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Turn a toml error into a located scenario error with the field path and the line text.
pub fn toml_error(loc: &Locator, origin: &str, e: &toml::de::Error) -> Error {
    let (line, field) = match e.span() {
        Some(span) => (
            Some(loc.line_of_offset(span.start)),
            loc.field_at(span.start, span.end),
        ),
        None => (None, String::new()),
    };
    let mut message: String = e.message().trim().replace('\n', " ");
    if message.chars().count() > 400 {
        message = message.chars().take(400).collect::<String>() + " ...";
    }
    if let Some(l) = line {
        let text = loc.line_text(l).trim();
        if !text.is_empty() {
            // A line can be very long (a generated file): show its start only.
            let shown: String = text.chars().take(160).collect();
            let more = if shown.len() < text.len() { " ..." } else { "" };
            message.push_str(&format!("\n    {l} | {shown}{more}"));
        }
    }
    Error::Scenario {
        path: origin.to_string(),
        line,
        field: if field.is_empty() {
            "(syntax)".into()
        } else {
            field
        },
        message,
    }
}

/// Collects the context of cross-field checks so each error names file, field and line.
pub(crate) struct Checker<'a> {
    pub loc: &'a Locator<'a>,
    pub origin: &'a str,
}

impl Checker<'_> {
    pub fn err(&self, field: impl Into<String>, message: impl Into<String>) -> Error {
        let field = field.into();
        Error::Scenario {
            path: self.origin.to_string(),
            line: self.loc.line_of_field(&field),
            field,
            message: message.into(),
        }
    }

    fn require<T>(&self, v: Option<T>, field: String, model: &str) -> Result<T> {
        v.ok_or_else(|| self.err(field, format!("is required by model `{model}`")))
    }

    fn forbid<T>(&self, v: &Option<T>, field: String, model: &str, allowed: &str) -> Result<()> {
        match v {
            Some(_) => Err(self.err(
                field,
                format!("is not a parameter of model `{model}` (it takes {allowed})"),
            )),
            None => Ok(()),
        }
    }
}

/// Issue 14: check `[population.base]` and read its table (relative to the scenario file).
fn validate_base(
    ck: &Checker,
    raw: Option<&raw::RawBase>,
    segments: &[Segment],
) -> Result<Option<crate::base::Base>> {
    use crate::base::SegmentOf;
    let Some(b) = raw else { return Ok(None) };
    let names: Vec<String> = segments.iter().map(|s| s.name.clone()).collect();
    let seg = match (&b.segment, &b.segment_col) {
        (Some(_), Some(_)) => {
            return Err(ck.err(
                "population.base.segment_col",
                "give either `segment` (one segment for every row) or `segment_col`, not both",
            ))
        }
        (None, Some(c)) => SegmentOf::Column(c),
        (Some(name), None) => {
            SegmentOf::All(names.iter().position(|n| n == name).ok_or_else(|| {
                ck.err(
                    "population.base.segment",
                    format!(
                        "unknown segment `{name}`; the segments are: {}",
                        names.join(", ")
                    ),
                )
            })?)
        }
        (None, None) if names.len() == 1 => SegmentOf::All(0),
        (None, None) => {
            return Err(ck.err(
                "population.base.segment",
                "is required when there is more than one segment (or give `segment_col`)",
            ))
        }
    };
    let dir = if ck.origin == DEFAULT_ORIGIN {
        Path::new(".")
    } else {
        Path::new(ck.origin).parent().unwrap_or(Path::new("."))
    };
    let path = dir.join(&b.rfm);
    let (bytes, customers) = crate::base::load(&path, &names, seg)?;
    Ok(Some(crate::base::Base {
        rfm: b.rfm.clone(),
        sha256: hex(&Sha256::digest(&bytes)),
        unit: b.unit.unwrap_or(TimeUnit::Week),
        customers,
    }))
}

/// Validate a parsed scenario: each block in turn, then the checks across blocks.
fn validate(raw: RawScenario, loc: &Locator, origin: &str, sha256: String) -> Result<Scenario> {
    let ck = Checker { loc, origin };
    if raw.name.trim().is_empty() {
        return Err(ck.err("name", "must not be empty"));
    }
    let pop = &raw.population;
    let segments = validate_segments(&ck, &pop.segments)?;
    let acquisition = validate_acquisition(&ck, pop.acquisition.as_ref())?;
    let categories = validate_categories(&ck, raw.categories.iter().flatten())?;
    let designs = validate_designs(&ck, &raw, &segments, &categories)?;
    let control = designs
        .iter()
        .position(|d| d.kind == Kind::None)
        .ok_or_else(|| {
            ck.err(
                "designs[0].kind",
                "needs a design with kind = \"none\": the control every other design is compared with",
            )
        })?;
    let scenario = Scenario {
        name: raw.name,
        origin: origin.to_string(),
        sha256,
        seed: raw.seed.map_or(1, |s| s.0),
        replicates: raw.replicates.map_or(20, |r| r.0),
        horizon_days: raw.horizon_days.0,
        period: raw.period.unwrap_or(Period::Month),
        population: Population {
            customers: pop.customers.0,
            acquisition,
            base: validate_base(&ck, pop.base.as_ref(), &segments)?,
            tenure_years: crate::population::tenure::validate(&ck, pop.tenure.as_ref())?,
            segments,
        },
        categories,
        designs,
        control,
        uncertainty: raw
            .uncertainty
            .as_ref()
            .map(crate::uncertainty::Spec::validate)
            .transpose()
            .map_err(|(f, m)| ck.err(f, m))?,
        finance: crate::finance::Finance::validate(raw.finance.as_ref())
            .map_err(|(f, m)| ck.err(f, m))?,
    };
    check_population_size(&ck, &scenario)?;
    Ok(scenario)
}

/// The segments: unique non-empty names, each segment valid, shares summing to 1.
fn validate_segments(ck: &Checker, raw: &[RawSegment]) -> Result<Vec<Segment>> {
    if raw.is_empty() {
        return Err(ck.err(
            "population",
            "needs at least one [[population.segments]] entry",
        ));
    }
    let mut segments = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let base = format!("population.segments[{i}]");
        if s.name.trim().is_empty() {
            return Err(ck.err(format!("{base}.name"), "must not be empty"));
        }
        if segments.iter().any(|x: &Segment| x.name == s.name) {
            return Err(ck.err(
                format!("{base}.name"),
                format!(
                    "segment name `{}` is used twice; names must be unique",
                    s.name
                ),
            ));
        }
        segments.push(validate_segment(ck, &base, s)?);
    }
    let total: f64 = segments.iter().map(|s| s.share).sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(ck.err(
            "population.segments[0].share",
            format!("segment shares must sum to 1, they sum to {total}"),
        ));
    }
    Ok(segments)
}

/// `[population.acquisition]`, if given: a bounded arrival rate and its cost.
fn validate_acquisition(
    ck: &Checker,
    raw: Option<&raw::RawAcquisition>,
) -> Result<Option<Acquisition>> {
    let Some(a) = raw else {
        return Ok(None);
    };
    if a.per_day.get() > 1e6 {
        return Err(ck.err(
            "population.acquisition.per_day",
            format!("must be at most 1000000 per day, got {}", a.per_day.get()),
        ));
    }
    Ok(Some(Acquisition {
        per_day: a.per_day.get(),
        cost_per_customer_cents: units::to_cents(a.cost_per_customer.map_or(0.0, |c| c.get())),
    }))
}

/// `[[categories]]`: unique non-empty names, shares of spend adding up to at most 1.
fn validate_categories<'r>(
    ck: &Checker,
    raw: impl Iterator<Item = &'r raw::RawCategory>,
) -> Result<Vec<Category>> {
    let mut categories: Vec<Category> = Vec::new();
    let mut category_share = 0.0;
    for (i, c) in raw.enumerate() {
        if categories.iter().any(|x| x.name == c.name) || c.name.trim().is_empty() {
            return Err(ck.err(
                format!("categories[{i}].name"),
                format!(
                    "category names must be unique and not empty, got `{}`",
                    c.name
                ),
            ));
        }
        category_share += c.share_of_spend.get();
        if category_share > 1.0 + 1e-9 {
            return Err(ck.err(
                format!("categories[{i}].share_of_spend"),
                format!(
                    "category shares of spend add up to {category_share}; at most 1 is allowed"
                ),
            ));
        }
        categories.push(Category {
            name: c.name.clone(),
            share_of_spend: c.share_of_spend.get(),
            margin: c.margin.get(),
        });
    }
    Ok(categories)
}

/// `[[designs]]`: at least one, unique non-empty names, each design valid against the
/// segments and categories it refers to.
fn validate_designs(
    ck: &Checker,
    raw: &RawScenario,
    segments: &[Segment],
    categories: &[Category],
) -> Result<Vec<Design>> {
    if raw.designs.is_empty() {
        return Err(ck.err(
            "designs",
            "needs at least one [[designs]] entry (a `kind = \"none\"` control to compare with)",
        ));
    }
    let names: Vec<String> = segments.iter().map(|s| s.name.clone()).collect();
    let cats: Vec<String> = categories.iter().map(|c| c.name.clone()).collect();
    let mut designs: Vec<Design> = Vec::with_capacity(raw.designs.len());
    for (i, d) in raw.designs.iter().enumerate() {
        let field = format!("designs[{i}].name");
        if d.name.trim().is_empty() {
            return Err(ck.err(field, "must not be empty"));
        }
        if designs.iter().any(|x| x.name == d.name) {
            return Err(ck.err(
                field,
                format!(
                    "design name `{}` is used twice; names must be unique",
                    d.name
                ),
            ));
        }
        let design = design::validate(ck, i, d, &names, &cats, raw.horizon_days.0)?;
        check_earn_scale(ck, i, &design, segments)?;
        designs.push(design);
    }
    Ok(designs)
}

/// The population is neither empty nor beyond what a run can hold.
fn check_population_size(ck: &Checker, scenario: &Scenario) -> Result<()> {
    if scenario.population.customers == 0
        && scenario.population.base.is_none()
        && scenario.expected_acquired() == 0.0
    {
        return Err(ck.err(
            "population.customers",
            "the population is empty: set customers > 0 or an acquisition rate > 0",
        ));
    }
    if scenario.expected_acquired() > units::MAX_CUSTOMERS as f64 {
        return Err(ck.err(
            "population.acquisition.per_day",
            format!(
                "would bring about {:.0} customers over the horizon; at most {} are allowed",
                scenario.expected_acquired(),
                units::MAX_CUSTOMERS
            ),
        ));
    }
    Ok(())
}

fn validate_segment(ck: &Checker, base: &str, s: &RawSegment) -> Result<Segment> {
    let p = &s.purchase;
    let f = |k: &str| format!("{base}.purchase.{k}");
    let unit = p.unit.unwrap_or(TimeUnit::Week);
    let mut derived = Vec::new();
    let purchase = match p.model {
        PurchaseModelName::Calculator => {
            let (model, note) = calculator::purchase(ck, &f, p)?;
            derived.push(note);
            model
        }
        PurchaseModelName::BgNbd => {
            let m = "bg-nbd";
            ck.forbid(&p.s, f("s"), m, "r, alpha, a, b, unit")?;
            ck.forbid(&p.beta, f("beta"), m, "r, alpha, a, b, unit")?;
            PurchaseModel::BgNbd {
                r: ck.require(p.r, f("r"), m)?.get(),
                alpha: ck.require(p.alpha, f("alpha"), m)?.get(),
                a: ck.require(p.a, f("a"), m)?.get(),
                b: ck.require(p.b, f("b"), m)?.get(),
                unit,
            }
        }
        PurchaseModelName::ParetoNbd => {
            let m = "pareto-nbd";
            ck.forbid(&p.a, f("a"), m, "r, alpha, s, beta, unit")?;
            ck.forbid(&p.b, f("b"), m, "r, alpha, s, beta, unit")?;
            PurchaseModel::ParetoNbd {
                r: ck.require(p.r, f("r"), m)?.get(),
                alpha: ck.require(p.alpha, f("alpha"), m)?.get(),
                s: ck.require(p.s, f("s"), m)?.get(),
                beta: ck.require(p.beta, f("beta"), m)?.get(),
                unit,
            }
        }
    };
    let sp = &s.spend;
    let g = |k: &str| format!("{base}.spend.{k}");
    let spend = match sp.model {
        SpendModelName::Calculator => {
            let (model, note) = calculator::spend(ck, &g, sp)?;
            derived.push(note);
            model
        }
        SpendModelName::GammaGamma => {
            let m = "gamma-gamma";
            ck.forbid(&sp.mean, g("mean"), m, "p, q, gamma")?;
            ck.forbid(&sp.cv, g("cv"), m, "p, q, gamma")?;
            SpendModel::GammaGamma {
                p: ck.require(sp.p, g("p"), m)?.get(),
                q: ck.require(sp.q, g("q"), m)?.get(),
                gamma: ck.require(sp.gamma, g("gamma"), m)?.get(),
            }
        }
        SpendModelName::Lognormal | SpendModelName::Fixed => {
            let m = if sp.model == SpendModelName::Fixed {
                "fixed"
            } else {
                "lognormal"
            };
            let allowed = if m == "fixed" { "mean" } else { "mean, cv" };
            ck.forbid(&sp.p, g("p"), m, allowed)?;
            ck.forbid(&sp.q, g("q"), m, allowed)?;
            ck.forbid(&sp.gamma, g("gamma"), m, allowed)?;
            let mean = ck.require(sp.mean, g("mean"), m)?.get();
            if mean > 1e7 {
                return Err(ck.err(g("mean"), format!("must be at most 10000000, got {mean}")));
            }
            if m == "fixed" {
                ck.forbid(&sp.cv, g("cv"), m, allowed)?;
                SpendModel::Fixed { value: mean }
            } else {
                let cv = ck.require(sp.cv, g("cv"), m)?.get();
                if cv > 100.0 {
                    return Err(ck.err(g("cv"), format!("must be at most 100, got {cv}")));
                }
                SpendModel::LogNormal { mean, cv }
            }
        }
    };
    check_plausible(ck, base, &purchase, &spend)?;
    Ok(Segment {
        name: s.name.clone(),
        share: s.share.get(),
        margin: s.margin.get(),
        purchase,
        spend,
        discount_elasticity: s.discount_elasticity.map_or(0.0, |x| x.get()),
        benefit_cut_dropout: s.benefit_cut_dropout.map_or(1.0, |x| x.get()),
        return_rate: s.return_rate.map_or(0.0, |x| x.get()),
        derived,
        seasonality: s
            .seasonality
            .as_ref()
            .map(|r| seasonality::validate(ck, &format!("{base}.seasonality"), r))
            .transpose()?,
    })
}

/// Most purchases per customer and day a segment may average: far above any store, and far
/// below rates at which the event clock of a 100-year horizon would stop advancing.
pub const MAX_MEAN_RATE_PER_DAY: f64 = 100.0;

/// Checks across a segment's parameters that single ranges cannot express.
fn check_plausible(
    ck: &Checker,
    base: &str,
    purchase: &PurchaseModel,
    spend: &SpendModel,
) -> Result<()> {
    let (PurchaseModel::BgNbd { r, alpha, unit, .. }
    | PurchaseModel::ParetoNbd { r, alpha, unit, .. }) = *purchase;
    let per_day = r / (alpha * unit.days());
    if per_day > MAX_MEAN_RATE_PER_DAY {
        return Err(ck.err(
            format!("{base}.purchase.alpha"),
            format!(
                "r / alpha gives a mean of {per_day:.3e} purchases per customer and day; at most {MAX_MEAN_RATE_PER_DAY} are allowed (is `unit` right?)"
            ),
        ));
    }
    if let SpendModel::GammaGamma { q, .. } = *spend {
        if q <= 1.0 {
            return Err(ck.err(
                format!("{base}.spend.q"),
                format!("must be > 1 so that the mean order value is finite (p gamma / (q - 1)), got {q}"),
            ));
        }
        let mean = spend.mean();
        if mean > 1e7 {
            return Err(ck.err(
                format!("{base}.spend.gamma"),
                format!("p gamma / (q - 1) gives a mean order value of {mean:.3e}; at most 1e7 is allowed"),
            ));
        }
    }
    Ok(())
}

/// Most points a member may earn on an average order, and most rewards' worth of points: an
/// order worth more than that many rewards is a unit mistake (cents for currency, points for
/// thousands of points), and redeeming them one by one would stall the run.
pub const MAX_POINTS_PER_ORDER: f64 = 1e9;
/// See [`MAX_POINTS_PER_ORDER`].
pub const MAX_REWARDS_PER_ORDER: f64 = 1000.0;

/// Points per average order at the largest earn multipliers, against the smallest
/// redemption: values each in range can still multiply to an absurd program.
fn check_earn_scale(ck: &Checker, i: usize, d: &Design, segments: &[Segment]) -> Result<()> {
    let Some(earn) = &d.earn else {
        return Ok(());
    };
    let rate = earn.per_currency_unit + d.membership.as_ref().map_or(0.0, |m| m.extra_earn_rate);
    let multiplier = earn
        .promotions
        .iter()
        .map(|p| p.multiplier)
        .chain(earn.category_multipliers.iter().copied())
        .chain(
            d.tiers
                .iter()
                .flat_map(|t| t.levels.iter().map(|l| l.earn_multiplier)),
        )
        .fold(1.0, f64::max);
    let order_value_multiplier = d.response.iter().map(|m| m.order_value).fold(1.0, f64::max);
    let order = segments.iter().map(|s| s.spend.mean()).fold(0.0, f64::max);
    let points = earn.per_order as f64 + rate * order * order_value_multiplier * multiplier;
    let field = format!("designs[{i}].earn.per_currency_unit");
    if points > MAX_POINTS_PER_ORDER {
        return Err(ck.err(
            field,
            format!(
                "a member would earn about {points:.3e} points on an average order; at most {MAX_POINTS_PER_ORDER:.0e} are allowed"
            ),
        ));
    }
    let smallest = d.redemption.as_ref().and_then(|r| {
        r.rewards
            .iter()
            .map(|w| w.points)
            .chain(r.cash.map(|(_, step)| step))
            .min()
    });
    if let Some(unit) = smallest {
        let rewards = points / unit.max(1) as f64;
        if rewards > MAX_REWARDS_PER_ORDER {
            return Err(ck.err(
                field,
                format!(
                    "a member would earn about {rewards:.0} of the smallest reward ({unit} points) on an average order; at most {MAX_REWARDS_PER_ORDER:.0} are allowed (is the earn rate or the reward in the right unit?)"
                ),
            ));
        }
    }
    Ok(())
}
