use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use phi_guard::Phi;

// A date of birth has ~40 000 values: its hash, once logged, is undone by trying them all.
fn main() {
    let dob = Phi::new(19_700_101_u32);
    let mut hasher = DefaultHasher::new();
    dob.hash(&mut hasher);
    Hash::hash(&dob, &mut hasher);
    tracing::info!(dob_hash = hasher.finish(), "lookup");

    let mut seen = HashSet::new();
    seen.insert(dob);
}
