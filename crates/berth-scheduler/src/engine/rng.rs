//! The seeded random source placement uses: SplitMix64, written out here so that a seed
//! gives the same placement across dependency upgrades (snapshot tests rely on it).
//!
//! Invariant: the sequence depends on the seed only. Not cryptographic, not for anything
//! but tie-breaking.

pub(crate) struct SeededRng {
    state: u64,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A uniform choice in `0..bound` (multiply-shift; the bias is below 2^-32 for any
    /// bound placement can see). `bound` must not be zero.
    pub fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}
