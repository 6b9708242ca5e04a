//! US Social Security numbers and ITINs, written `AAA-GG-SSSS`.
//!
//! The Social Security Administration never issues area 000, 666 or 900-999, group 00
//! or serial 0000, so those are how synthetic SSNs are written, and they pass. Every
//! other number could belong to someone and is reported, including famous voided ones
//! such as the 1938 wallet-insert number in area 078: a reviewer should never have to
//! remember a list of exceptions, and area 900-999 is always at hand.
//!
//! Area 900-999 is not free of people, though: with group 50-65, 70-88, 90-92 or 94-99
//! it is an ITIN, which the IRS issues to people without an SSN (many of them patients).
//! Synthetic numbers in area 900-999 use group 01-49.

use crate::{Kind, candidates, digits};

pub(crate) fn find(line: &[u8]) -> Vec<Kind> {
    candidates(line, b"ddd-dd-dddd")
        .filter_map(|start| classify(&digits(line, start, 11)))
        .collect()
}

fn classify(d: &[u32]) -> Option<Kind> {
    let number = |range: std::ops::Range<usize>| d[range].iter().fold(0, |n, &x| n * 10 + x);
    let (area, group, serial) = (number(0..3), number(3..5), number(5..9));
    if group == 0 || serial == 0 {
        return None;
    }
    match area {
        0 | 666 => None,
        900..=999 if matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99) => Some(Kind::UsItin),
        900..=999 => None,
        _ => Some(Kind::UsSsn),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Kind, tests::kinds};

    #[test]
    fn issuable_ssns_are_refused() {
        assert_eq!(kinds(&["123-45-", "6789"]), [Kind::UsSsn]);
        assert_eq!(kinds(&["SSN: 001-01-", "0001."]), [Kind::UsSsn]);
        assert_eq!(kinds(&["(899-99-", "9999)"]), [Kind::UsSsn]);
        assert_eq!(
            kinds(&["078-05-", "1120"]),
            [Kind::UsSsn],
            "voided, still refused"
        );
    }

    #[test]
    fn itins_are_refused() {
        assert_eq!(kinds(&["912-70-", "1234"]), [Kind::UsItin]);
        assert_eq!(kinds(&["999-99-", "0001"]), [Kind::UsItin]);
    }

    #[test]
    fn never_issued_numbers_pass() {
        for synthetic in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "987-49-4321",
            "912-93-1234",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(kinds(&[synthetic]).is_empty(), "{synthetic}");
        }
    }

    #[test]
    fn other_shapes_pass() {
        for text in [
            "2024-05-12",
            "555-123-4567",
            "123456789",
            "12-345-6789",
            "123 45 6789",
        ] {
            assert!(kinds(&[text]).is_empty(), "{text}");
        }
    }
}
