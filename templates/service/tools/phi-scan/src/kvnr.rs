//! German health insurance numbers (Krankenversichertennummer, unchangeable part): an
//! uppercase letter, eight digits and a check digit, e.g. `A123456789`.
//!
//! The check digit (GKV-Spitzenverband): the letter becomes its two-digit position in the
//! alphabet (A = 01 ... Z = 26); over those two digits and the next eight, weights 1 and
//! 2 alternate; the digit sums of the products are added; the sum mod 10 is the check
//! digit.

use crate::{Kind, candidates, digits};

pub(crate) fn find(line: &[u8]) -> Vec<Kind> {
    candidates(line, b"Lddddddddd")
        .filter(|&start| check_digit_valid(line[start], &digits(line, start + 1, 9)))
        .map(|_| Kind::GermanKvnr)
        .collect()
}

fn check_digit_valid(letter: u8, d: &[u32]) -> bool {
    let position = u32::from(letter - b'A') + 1;
    let sum: u32 = [position / 10, position % 10]
        .iter()
        .chain(&d[..8])
        .enumerate()
        .map(|(i, &x)| {
            let product = if i % 2 == 0 { x } else { 2 * x };
            product / 10 + product % 10
        })
        .sum();
    sum % 10 == d[8]
}

#[cfg(test)]
mod tests {
    use crate::{Kind, tests::kinds};

    #[test]
    fn numbers_with_a_valid_check_digit_are_refused() {
        assert_eq!(kinds(&["A12345", "6780"]), [Kind::GermanKvnr]);
        assert_eq!(kinds(&["KVNR: Z98765", "4321."]), [Kind::GermanKvnr]);
    }

    #[test]
    fn numbers_with_a_wrong_check_digit_pass() {
        for synthetic in ["A123456781", "Z987654320"] {
            assert!(kinds(&[synthetic]).is_empty(), "{synthetic}");
        }
    }

    #[test]
    fn other_shapes_pass() {
        // lowercase, too few or too many digits, glued to a word
        for text in ["a123456780", "A12345678", "A1234567800", "KA123456780"] {
            assert!(kinds(&[text]).is_empty(), "{text}");
        }
    }
}
