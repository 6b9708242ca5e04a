//! Swiss social security numbers (AHV/AVS, since 2008): `756.XXXX.XXXX.XC`, 13 digits
//! starting with the country code 756 and ending with an EAN-13 check digit. Written
//! with dots or as 13 bare digits.

use crate::{Kind, candidates, digits};

pub(crate) fn find(line: &[u8]) -> Vec<Kind> {
    let dotted = candidates(line, b"756.dddd.dddd.dd").map(|start| digits(line, start, 16));
    let bare = candidates(line, b"756dddddddddd").map(|start| digits(line, start, 13));
    dotted
        .chain(bare)
        .filter(|d| ean13_valid(d))
        .map(|_| Kind::SwissAhv)
        .collect()
}

/// EAN-13: weights 1 and 3 alternate from the left over the first 12 digits; the check
/// digit brings the sum to a multiple of 10.
fn ean13_valid(d: &[u32]) -> bool {
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { x } else { 3 * x })
        .sum();
    (10 - sum % 10) % 10 == d[12]
}

#[cfg(test)]
mod tests {
    use crate::{Kind, tests::kinds};

    #[test]
    fn numbers_with_a_valid_check_digit_are_refused() {
        assert_eq!(kinds(&["756.9217.", "0769.85"]), [Kind::SwissAhv]);
        assert_eq!(kinds(&["AHV-Nr. 7569217", "076985"]), [Kind::SwissAhv]);
        assert_eq!(kinds(&["\"756.1234.", "5678.97\","]), [Kind::SwissAhv]);
    }

    #[test]
    fn numbers_with_a_wrong_check_digit_pass() {
        for synthetic in ["756.9217.0769.86", "7569217076980", "756.1234.5678.90"] {
            assert!(kinds(&[synthetic]).is_empty(), "{synthetic}");
        }
    }

    #[test]
    fn other_country_codes_and_shapes_pass() {
        // 757 is not the Swiss prefix; a 14-digit run is not an AHV number.
        assert!(kinds(&["757.9217.0769.85"]).is_empty());
        assert!(kinds(&["75692170769851"]).is_empty());
        assert!(kinds(&["756.921.70769.85"]).is_empty());
    }
}
