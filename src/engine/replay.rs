//! Common random numbers drawn once: the control records a customer's behaviour-stream
//! draws, and every other design's timeline replays them instead of drawing them again.
//!
//! Every design draws the same kinds of numbers from the behaviour stream in the same order
//! (the opening order value; then per repeat purchase a hazard budget, an order value and,
//! under BG/NBD, a dropout uniform). A program changes what is done with the numbers, never
//! which are drawn, so the k-th draw of a design is the k-th draw of the control. Replaying
//! the recorded value is therefore exactly drawing it again (same bits), at the cost of a
//! load instead of a Gamma sampler. A design whose customer buys beyond what the control
//! drew goes on drawing from the stream where the control left it.

use rand::rngs::Xoshiro256PlusPlus;

/// Per-worker buffers reused from customer to customer (no allocation per customer).
#[derive(Debug, Default)]
pub struct Scratch {
    /// The current customer's behaviour draws under the control, in draw order.
    pub(crate) draws: Vec<f64>,
}

/// One timeline's view of the behaviour stream: recorded values first, then live draws.
#[derive(Debug, Clone)]
pub(crate) struct Replay<'r> {
    recorded: &'r [f64],
    next: usize,
    /// The stream positioned after the last recorded draw.
    rng: Xoshiro256PlusPlus,
}

impl<'r> Replay<'r> {
    /// Replay `recorded`, then continue from `rng`, the stream just after them.
    pub(crate) fn new(recorded: &'r [f64], rng: Xoshiro256PlusPlus) -> Self {
        Replay {
            recorded,
            next: 0,
            rng,
        }
    }

    /// A stream nobody drew from before (referred and attracted customers, independent
    /// streams): every draw is live.
    pub(crate) fn live(rng: Xoshiro256PlusPlus) -> Self {
        Replay::new(&[], rng)
    }

    /// The next draw: the recorded one if there is one, else `draw` on the live stream.
    #[inline]
    pub(crate) fn next(&mut self, draw: impl FnOnce(&mut Xoshiro256PlusPlus) -> f64) -> f64 {
        let v = match self.recorded.get(self.next) {
            Some(&v) => v,
            None => draw(&mut self.rng),
        };
        self.next += 1;
        v
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use super::*;

    /// Replaying a recorded prefix and then drawing live gives the very numbers a second
    /// copy of the stream draws: the replay is exact past the end of the recording too.
    #[test]
    fn replay_then_live_equals_the_stream() {
        let rng = Xoshiro256PlusPlus::seed_from_u64(42);
        let mut recorder = rng.clone();
        let recorded: Vec<f64> = (0..5).map(|_| recorder.random::<f64>()).collect();
        let mut replay = Replay::new(&recorded, recorder);
        let mut reference = rng;
        for _ in 0..12 {
            let want: f64 = reference.random();
            assert_eq!(replay.next(|r| r.random::<f64>()).to_bits(), want.to_bits());
        }
    }
}
