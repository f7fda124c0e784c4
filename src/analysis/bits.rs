//! A fixed-size bit set, used for class signatures and rule sets, and a
//! fast hash map for such keys.

use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bits {
    words: Vec<u64>,
}

impl Bits {
    pub fn new(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    pub fn set(&mut self, bit: usize) {
        self.words[bit / 64] |= 1 << (bit % 64);
    }

    pub fn get(&self, bit: usize) -> bool {
        self.words
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    pub fn and_into(&self, other: &Bits, out: &mut Bits) {
        for (i, word) in out.words.iter_mut().enumerate() {
            *word = self.words[i] & other.words[i];
        }
    }

    /// The lowest set bit below `limit`.
    pub fn first_below(&self, limit: usize) -> Option<usize> {
        for (i, &word) in self.words.iter().enumerate() {
            if word != 0 {
                let bit = i * 64 + word.trailing_zeros() as usize;
                return (bit < limit).then_some(bit);
            }
        }
        None
    }

    /// Set bits below `limit`, ascending.
    pub fn ones_below(&self, limit: usize) -> impl Iterator<Item = usize> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(move |(i, &word)| word_ones(i, word).take_while(move |&b| b < limit))
    }
}

/// The nonzero words of a bit set below a limit, for intersecting one set
/// with many others in time proportional to the words it uses.
#[derive(Clone, Debug, Default)]
pub struct SparseBits {
    words: Vec<(usize, u64)>,
}

impl SparseBits {
    /// The bits of `bits` below `limit`.
    pub fn below(bits: &Bits, limit: usize) -> Self {
        let mut words = Vec::new();
        for (i, &word) in bits.words.iter().enumerate() {
            let start = i * 64;
            if start >= limit {
                break;
            }
            let kept = if limit - start < 64 {
                word & ((1 << (limit - start)) - 1)
            } else {
                word
            };
            if kept != 0 {
                words.push((i, kept));
            }
        }
        Self { words }
    }

    /// Only the tests ask; the table's readers walk the bits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Set bits, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().flat_map(|&(i, word)| word_ones(i, word))
    }

    /// Bits set both here and in `other`, ascending.
    pub fn and_ones<'a>(&'a self, other: &'a Bits) -> impl Iterator<Item = usize> + 'a {
        self.words
            .iter()
            .flat_map(|&(i, word)| word_ones(i, word & other.words[i]))
    }
}

/// The set bits of word `i`, as bit positions, ascending.
fn word_ones(i: usize, word: u64) -> impl Iterator<Item = usize> {
    let mut w = word;
    std::iter::from_fn(move || {
        if w == 0 {
            return None;
        }
        let bit = i * 64 + w.trailing_zeros() as usize;
        w &= w - 1;
        Some(bit)
    })
}

/// A hash map with a fast, non-keyed hash for bit sets and rows of numbers
/// the policy determines: the keys are not chosen by an adversary, and the
/// map's order never reaches the output.
pub type WordMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// Multiplies and rotates a word at a time (the hash rustc uses).
#[derive(Default)]
pub struct WordHasher {
    hash: u64,
}

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}
