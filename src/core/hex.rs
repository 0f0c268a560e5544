//! Hex encoding for ids, and reading hex digits.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The value of one hex digit, either case.
pub fn value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

pub fn upper(bytes: &[u8]) -> String {
    lower(bytes).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes() {
        assert_eq!(super::lower(&[0x00, 0xab, 0x5f]), "00ab5f");
        assert_eq!(super::upper(&[0x00, 0xab, 0x5f]), "00AB5F");
    }
}
