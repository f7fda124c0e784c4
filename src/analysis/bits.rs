//! A fixed-size bit set, used for class signatures and rule sets, and a
//! fast hash map for such keys.

use std::hash::{BuildHasherDefault, Hasher};

/// Only the nonzero words are kept, by index: a class of one host among
/// 100,000 rules costs a word, not 100,000 bits, so the signatures of a
/// partition grow with what they hold rather than with atoms times sets.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bits {
    /// `(index, word)`, ascending by index, no word zero.
    words: Vec<(usize, u64)>,
}

impl Bits {
    /// An empty set of up to `len` bits (the length is not stored).
    pub fn new(_len: usize) -> Self {
        Self { words: Vec::new() }
    }

    pub fn set(&mut self, bit: usize) {
        let (index, mask) = (bit / 64, 1 << (bit % 64));
        match self.words.last_mut() {
            Some((last, word)) if *last == index => *word |= mask,
            Some((last, _)) if *last > index => {
                match self.words.binary_search_by_key(&index, |&(i, _)| i) {
                    Ok(at) => self.words[at].1 |= mask,
                    Err(at) => self.words.insert(at, (index, mask)),
                }
            }
            _ => self.words.push((index, mask)),
        }
    }

    /// Word `index`, 0 when none is kept.
    fn word(&self, index: usize) -> u64 {
        self.words
            .binary_search_by_key(&index, |&(i, _)| i)
            .map_or(0, |at| self.words[at].1)
    }

    pub fn get(&self, bit: usize) -> bool {
        self.word(bit / 64) & (1 << (bit % 64)) != 0
    }

    pub fn and_into(&self, other: &Bits, out: &mut Bits) {
        out.words.clear();
        let (mut a, mut b) = (self.words.iter().peekable(), other.words.iter().peekable());
        while let (Some(&&(i, x)), Some(&&(j, y))) = (a.peek(), b.peek()) {
            match i.cmp(&j) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if x & y != 0 {
                        out.words.push((i, x & y));
                    }
                    a.next();
                    b.next();
                }
            }
        }
    }

    /// The lowest set bit below `limit`.
    pub fn first_below(&self, limit: usize) -> Option<usize> {
        let &(i, word) = self.words.first()?;
        let bit = i * 64 + word.trailing_zeros() as usize;
        (bit < limit).then_some(bit)
    }

    /// Set bits below `limit`, ascending.
    pub fn ones_below(&self, limit: usize) -> impl Iterator<Item = usize> + '_ {
        self.words
            .iter()
            .flat_map(move |&(i, word)| word_ones(i, word).take_while(move |&b| b < limit))
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
        for &(i, word) in &bits.words {
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
            .flat_map(|&(i, word)| word_ones(i, word & other.word(i)))
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

    /// The state mixed so that its low bits, which pick the bucket, depend
    /// on every bit (murmur3's finaliser): without it, rows that differ only
    /// in their high bits (rule ordinals under 2^24) share buckets, and
    /// 100,000 rows take quadratic time.
    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}
