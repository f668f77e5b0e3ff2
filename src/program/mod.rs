//! Program parts: one file per part, each holding its TOML table (`Raw*`), its validation,
//! its engine-ready rules and (through [`part::Part`]) its per-customer state and reactions
//! to a customer's events. The engine's timeline only runs the event loop and calls the
//! parts in the order fixed by its choreography; parts hold no random generator of their
//! own (the program stream is passed in), so they can be tested alone.

pub mod acquisition;
pub mod cashback;
pub mod costs;
pub mod earn;
pub mod enrolment;
pub mod events;
pub mod ledger;
pub mod membership;
pub mod part;
pub mod points;
pub mod punch_card;
pub mod redemption;
pub mod referral;
pub mod response;
pub mod tiers;
pub mod winback;

pub use costs::accrue;
pub use earn::{category_mix, purchase_points};
pub use redemption::affordable;
pub use tiers::qualifying_level;
