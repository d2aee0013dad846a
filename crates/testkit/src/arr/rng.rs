//! A tiny seeded generator (SplitMix64): the same seed gives the same library on every
//! platform and every version of the `rand` crate.

#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for item `i` of a library seeded with `seed`: items do not depend on
    /// each other, so item 7 is the same whether 10 or 30,000 are generated.
    pub fn for_item(seed: u64, i: u64) -> Self {
        let mut r = Self(seed ^ i.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An 11-character YouTube-style id (`[A-Za-z0-9_-]`).
    pub fn youtube_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..11)
            .map(|_| char::from(ALPHABET[self.below(64) as usize]))
            .collect()
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }

    /// Base-62 file stem like TMDB's image paths (`f89U3ADr1oiB1s9GkdPOEpXUk5H`).
    pub fn image_stem(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..27)
            .map(|_| char::from(ALPHABET[self.below(62) as usize]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_sequence() {
        let a: Vec<u64> = (0..5).map(|i| Rng::for_item(42, i).next_u64()).collect();
        let b: Vec<u64> = (0..5).map(|i| Rng::for_item(42, i).next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(
            Rng::for_item(42, 0).next_u64(),
            Rng::for_item(43, 0).next_u64()
        );
        let id = Rng::for_item(1, 0).youtube_id();
        assert_eq!(id.len(), 11);
    }
}
