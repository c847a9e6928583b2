//! FIT CRC-16 (the CRC-16/ARC polynomial 0xA001, reflected, initial value 0).
//!
//! We check file CRCs ourselves instead of letting rustyfit do it: rustyfit restarts its CRC at
//! the data section whenever a 14-byte header is present, which is wrong for headers whose own CRC
//! is 0x0000 (allowed by the FIT spec — the file CRC then covers header and data). Computing the
//! CRC over bytes `start..end-2` of each chained file is correct in both cases.

/// Byte-at-a-time lookup table, built at compile time so the check costs about one table lookup
/// per byte (the nibble table of the FIT SDK needs two).
const TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-16 of `bytes` as the FIT protocol defines it.
pub(crate) fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| {
        (crc >> 8) ^ TABLE[usize::from((crc as u8) ^ b)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The FIT SDK's reference nibble algorithm, written out to cross-check the table.
    fn crc16_nibbles(bytes: &[u8]) -> u16 {
        const NIBBLE: [u16; 16] = [
            0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800,
            0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
        ];
        let mut crc = 0u16;
        for &b in bytes {
            let tmp = NIBBLE[usize::from(crc & 0xF)];
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ NIBBLE[usize::from(b & 0xF)];
            let tmp = NIBBLE[usize::from(crc & 0xF)];
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ NIBBLE[usize::from((b >> 4) & 0xF)];
        }
        crc
    }

    #[test]
    fn check_value_of_crc16_arc() {
        // The catalogue check value of CRC-16/ARC.
        assert_eq!(crc16(b"123456789"), 0xBB3D);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn table_agrees_with_nibble_algorithm() {
        let data: Vec<u8> = (0..2000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0, 1, 2, 13, 14, 255, 2000] {
            assert_eq!(
                crc16(&data[..len]),
                crc16_nibbles(&data[..len]),
                "length {len}"
            );
        }
    }

    #[test]
    fn appending_the_crc_gives_zero() {
        // A property of this CRC family that FIT readers rely on.
        let mut data = b".FIT header and data".to_vec();
        let crc = crc16(&data);
        data.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(crc16(&data), 0);
    }
}
