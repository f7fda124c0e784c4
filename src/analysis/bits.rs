//! A fixed-size bit set, used for class signatures and rule sets.

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
        self.words.iter().enumerate().flat_map(move |(i, &word)| {
            let mut w = word;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = i * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                Some(bit)
            })
            .take_while(move |&b| b < limit)
        })
    }
}
