//! Just enough X.509 to check the certificates webpki refuses: v1 leaves, and v3 leaves that
//! carry their name only in the CN. Stock Wechaty gateways present such a leaf (v1,
//! `CN=insecure`, no subjectAltName), which Node accepts and webpki rejects by design.
//!
//! A small DER reader over borrowed bytes: no allocation except the decoded CN strings, and
//! every malformed input is an error, never a panic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadCertificate(pub(crate) &'static str);

type Result<T> = std::result::Result<T, BadCertificate>;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const VERSION_TAG: u8 = 0xa0;
const EXTENSIONS_TAG: u8 = 0xa3;

/// 2.5.4.3, commonName.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// 2.5.29.17, subjectAltName.
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// 2.5.29.19, basicConstraints.
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
/// 2.5.29.15, keyUsage.
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
/// 2.5.29.37, extKeyUsage.
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// 2.5.29.14, subjectKeyIdentifier.
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
/// 2.5.29.35, authorityKeyIdentifier.
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
/// 1.3.6.1.5.5.7.3.1, id-kp-serverAuth.
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// 2.5.29.37.0, anyExtendedKeyUsage.
const OID_ANY_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// One DER element: its tag, its contents, and all of its bytes (tag and length included).
#[derive(Clone, Copy)]
struct Element<'a> {
    tag: u8,
    contents: &'a [u8],
    whole: &'a [u8],
}

/// Reads consecutive DER elements from a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn next(&mut self) -> Result<Element<'a>> {
        let bytes = self.rest;
        let tag = *bytes.first().ok_or(BadCertificate("truncated element"))?;
        let first = *bytes.get(1).ok_or(BadCertificate("truncated length"))?;
        let (length, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            // 0x80 is BER's indefinite length; DER never uses it. Four bytes cover 4 GiB.
            if count == 0 || count > 4 {
                return Err(BadCertificate("unsupported length encoding"));
            }
            let digits = bytes
                .get(2..2 + count)
                .ok_or(BadCertificate("truncated length"))?;
            let length = digits
                .iter()
                .fold(0usize, |acc, &digit| (acc << 8) | usize::from(digit));
            (length, 2 + count)
        };
        let end = header
            .checked_add(length)
            .filter(|&end| end <= bytes.len())
            .ok_or(BadCertificate("element longer than its container"))?;
        self.rest = &bytes[end..];
        Ok(Element {
            tag,
            contents: &bytes[header..end],
            whole: &bytes[..end],
        })
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> Result<Element<'a>> {
        let element = self.next()?;
        if element.tag == tag {
            Ok(element)
        } else {
            Err(BadCertificate(what))
        }
    }
}

/// The parts of a certificate the legacy check needs.
#[derive(Debug)]
pub(crate) struct Certificate<'a> {
    /// 1 or 3.
    pub(crate) version: u8,
    /// The DER of `tbsCertificate`: what the issuer signed.
    pub(crate) signed: &'a [u8],
    /// The DER of the issuer `Name` (compared byte for byte with the CA's subject).
    pub(crate) issuer: &'a [u8],
    /// The DER of the subject `Name`.
    pub(crate) subject: &'a [u8],
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    /// The contents of the SPKI's `AlgorithmIdentifier`.
    pub(crate) public_key_algorithm: &'a [u8],
    /// The subject public key bits.
    pub(crate) public_key: &'a [u8],
    /// The contents of the outer `signatureAlgorithm`.
    pub(crate) signature_algorithm: &'a [u8],
    pub(crate) signature: &'a [u8],
    /// The subject's common names, in order.
    pub(crate) common_names: Vec<String>,
    /// The issuer's common names.
    pub(crate) issuer_common_names: Vec<String>,
    pub(crate) has_subject_alt_name: bool,
    /// basicConstraints says `cA: TRUE`: a CA's certificate, not a server's.
    pub(crate) is_ca: bool,
    /// extKeyUsage, when present: whether it allows a TLS server (serverAuth or any).
    pub(crate) allows_server_auth: Option<bool>,
    /// A critical extension this reader does not understand: the certificate must be refused
    /// (RFC 5280 §4.2).
    pub(crate) unknown_critical_extension: bool,
}

/// What the extensions the legacy check cares about say.
#[derive(Default)]
struct Extensions {
    subject_alt_name: bool,
    is_ca: bool,
    allows_server_auth: Option<bool>,
    unknown_critical: bool,
}

impl<'a> Certificate<'a> {
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self> {
        let mut outer = Reader::new(der);
        let certificate = outer.expect(SEQUENCE, "not a certificate")?;
        if !outer.is_empty() {
            return Err(BadCertificate("trailing data after the certificate"));
        }
        let mut parts = Reader::new(certificate.contents);
        let tbs = parts.expect(SEQUENCE, "no tbsCertificate")?;
        let signature_algorithm = parts.expect(SEQUENCE, "no signatureAlgorithm")?.contents;
        let signature = bit_string(parts.expect(BIT_STRING, "no signature")?)?;

        let mut fields = Reader::new(tbs.contents);
        let version = if fields.peek_tag() == Some(VERSION_TAG) {
            let explicit = fields.next()?;
            let number = Reader::new(explicit.contents).expect(INTEGER, "bad version")?;
            match number.contents {
                [0] => 1,
                [1] => 2,
                [2] => 3,
                _ => return Err(BadCertificate("unknown certificate version")),
            }
        } else {
            1
        };
        fields.expect(INTEGER, "no serial number")?;
        fields.expect(SEQUENCE, "no signature algorithm in tbsCertificate")?;
        let issuer = fields.expect(SEQUENCE, "no issuer")?;
        let validity = fields.expect(SEQUENCE, "no validity")?;
        let subject = fields.expect(SEQUENCE, "no subject")?;
        let spki = fields.expect(SEQUENCE, "no subjectPublicKeyInfo")?;

        let mut extensions = Extensions::default();
        while !fields.is_empty() {
            let element = fields.next()?;
            if element.tag == EXTENSIONS_TAG {
                extensions = read_extensions(element.contents)?;
            }
        }

        let mut times = Reader::new(validity.contents);
        let not_before = time(times.next()?)?;
        let not_after = time(times.next()?)?;

        let mut key = Reader::new(spki.contents);
        let public_key_algorithm = key.expect(SEQUENCE, "no public key algorithm")?.contents;
        let public_key = bit_string(key.expect(BIT_STRING, "no public key")?)?;

        Ok(Self {
            version,
            signed: tbs.whole,
            issuer: issuer.whole,
            subject: subject.whole,
            not_before,
            not_after,
            public_key_algorithm,
            public_key,
            signature_algorithm,
            signature,
            common_names: common_names(subject.contents)?,
            issuer_common_names: common_names(issuer.contents)?,
            has_subject_alt_name: extensions.subject_alt_name,
            is_ca: extensions.is_ca,
            allows_server_auth: extensions.allows_server_auth,
            unknown_critical_extension: extensions.unknown_critical,
        })
    }
}

/// A BIT STRING's bytes; certificates only use whole bytes (no unused bits).
fn bit_string(element: Element<'_>) -> Result<&[u8]> {
    match element.contents.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err(BadCertificate("bit string with unused bits")),
    }
}

/// The `[3]` extensions: `SEQUENCE OF SEQUENCE { OID, critical BOOLEAN DEFAULT FALSE, OCTET
/// STRING }`.
fn read_extensions(explicit: &[u8]) -> Result<Extensions> {
    let list = Reader::new(explicit).expect(SEQUENCE, "bad extensions")?;
    let mut extensions = Reader::new(list.contents);
    let mut read = Extensions::default();
    while !extensions.is_empty() {
        let extension = extensions.expect(SEQUENCE, "bad extension")?;
        let mut parts = Reader::new(extension.contents);
        let oid = parts.expect(OID, "extension without id")?.contents;
        let mut critical = false;
        if parts.peek_tag() == Some(BOOLEAN) {
            critical = match parts.next()?.contents {
                [0] => false,
                [0xff] => true,
                _ => return Err(BadCertificate("bad critical flag")),
            };
        }
        let value = parts
            .expect(OCTET_STRING, "extension without value")?
            .contents;
        if !parts.is_empty() {
            return Err(BadCertificate("trailing data in an extension"));
        }
        match oid {
            OID_SUBJECT_ALT_NAME => read.subject_alt_name = true,
            OID_BASIC_CONSTRAINTS => read.is_ca = basic_constraints_ca(value)?,
            OID_EXT_KEY_USAGE => read.allows_server_auth = Some(ext_key_usage_server(value)?),
            OID_KEY_USAGE | OID_SUBJECT_KEY_ID | OID_AUTHORITY_KEY_ID => {}
            _ => read.unknown_critical |= critical,
        }
    }
    Ok(read)
}

/// `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL }`.
fn basic_constraints_ca(value: &[u8]) -> Result<bool> {
    let constraints = Reader::new(value).expect(SEQUENCE, "bad basicConstraints")?;
    let mut parts = Reader::new(constraints.contents);
    if parts.peek_tag() == Some(BOOLEAN) {
        return match parts.next()?.contents {
            [0] => Ok(false),
            [0xff] => Ok(true),
            _ => Err(BadCertificate("bad cA flag")),
        };
    }
    Ok(false)
}

/// Whether `ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId` allows a TLS server.
fn ext_key_usage_server(value: &[u8]) -> Result<bool> {
    let purposes = Reader::new(value).expect(SEQUENCE, "bad extKeyUsage")?;
    let mut purposes = Reader::new(purposes.contents);
    let mut server = false;
    while !purposes.is_empty() {
        let purpose = purposes.expect(OID, "bad key purpose")?.contents;
        server |= purpose == OID_SERVER_AUTH || purpose == OID_ANY_EXT_KEY_USAGE;
    }
    Ok(server)
}

/// The commonName attributes of a `Name` (SEQUENCE OF SET OF AttributeTypeAndValue).
fn common_names(name: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut rdns = Reader::new(name);
    while !rdns.is_empty() {
        let rdn = rdns.expect(SET, "bad name")?;
        let mut attributes = Reader::new(rdn.contents);
        while !attributes.is_empty() {
            let attribute = attributes.expect(SEQUENCE, "bad name attribute")?;
            let mut parts = Reader::new(attribute.contents);
            if parts.expect(OID, "name attribute without type")?.contents == OID_COMMON_NAME {
                names.push(directory_string(parts.next()?)?);
            }
        }
    }
    Ok(names)
}

fn directory_string(element: Element<'_>) -> Result<String> {
    match element.tag {
        // UTF8String, PrintableString, IA5String, TeletexString (ASCII in practice)
        0x0c | 0x13 | 0x16 | 0x14 => String::from_utf8(element.contents.to_vec())
            .map_err(|_| BadCertificate("name is not UTF-8")),
        // BMPString: UTF-16BE
        0x1e => {
            if element.contents.len() % 2 != 0 {
                return Err(BadCertificate("odd-length BMPString"));
            }
            let units = element
                .contents
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            char::decode_utf16(units)
                .collect::<std::result::Result<String, _>>()
                .map_err(|_| BadCertificate("bad BMPString"))
        }
        _ => Err(BadCertificate("unsupported name string type")),
    }
}

/// UTCTime (`YYMMDDHHMMSSZ`, 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(element: Element<'_>) -> Result<SystemTime> {
    // ASCII only, so that the slicing below is by characters: a multi-byte character in a
    // date must be an error, not a panic.
    if !element.contents.is_ascii() {
        return Err(BadCertificate("bad time"));
    }
    let text = std::str::from_utf8(element.contents).map_err(|_| BadCertificate("bad time"))?;
    let (year, rest) = match element.tag {
        UTC_TIME if text.len() == 13 => {
            let yy: i64 = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        GENERALIZED_TIME if text.len() == 15 => (digits(&text[..4])?, &text[4..]),
        _ => return Err(BadCertificate("unsupported time format")),
    };
    if !rest.ends_with('Z') {
        return Err(BadCertificate("time is not UTC"));
    }
    let month: i64 = digits(&rest[0..2])?;
    let day: i64 = digits(&rest[2..4])?;
    let hour: i64 = digits(&rest[4..6])?;
    let minute: i64 = digits(&rest[6..8])?;
    let second: i64 = digits(&rest[8..10])?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(BadCertificate("time out of range"));
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let seconds = u64::try_from(seconds).map_err(|_| BadCertificate("time before 1970"))?;
    Ok(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn digits(text: &str) -> Result<i64> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse()
            .map_err(|_| BadCertificate("bad number in time"))
    } else {
        Err(BadCertificate("bad number in time"))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `YYYY-MM-DD HH:MM:SS UTC`, for error messages.
pub(crate) fn format_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // The inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{pem::PemObject, CertificateDer};

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn reads_the_stock_gateway_certificate() {
        let leaf = der(include_str!("../../certs/wechaty-insecure-server.pem"));
        let root = der(include_str!("../../certs/wechaty-root-ca.pem"));
        let leaf = Certificate::parse(&leaf).unwrap();
        let root = Certificate::parse(&root).unwrap();
        assert_eq!(leaf.version, 1);
        assert_eq!(leaf.common_names, ["insecure"]);
        assert!(!leaf.has_subject_alt_name);
        assert_eq!(leaf.issuer, root.subject);
        assert_eq!(root.common_names, ["wechaty-root-ca"]);
        assert_eq!(format_time(leaf.not_before), "2021-08-24 18:30:20 UTC");
        assert_eq!(format_time(leaf.not_after), "2031-08-22 18:30:20 UTC");
    }

    #[test]
    fn reads_a_v3_leaf_with_a_subject_alt_name() {
        let leaf = der(include_str!("../../tests/fixtures/tls/v3-san.pem"));
        let leaf = Certificate::parse(&leaf).unwrap();
        assert_eq!(leaf.version, 3);
        assert!(leaf.has_subject_alt_name);
        assert_eq!(leaf.common_names, ["puppet.example"]);
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let leaf = der(include_str!("../../certs/wechaty-insecure-server.pem"));
        for cut in 0..leaf.len() {
            assert!(Certificate::parse(&leaf[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = leaf.clone();
        for index in 0..flipped.len().min(64) {
            flipped[index] ^= 0xff;
            let _ = Certificate::parse(&flipped); // must not panic
            flipped[index] ^= 0xff;
        }
        assert!(Certificate::parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(Certificate::parse(&[0x30, 0x80]).is_err());
    }

    #[test]
    fn every_single_byte_change_is_an_error_or_a_certificate_never_a_panic() {
        for pem in [
            include_str!("../../certs/wechaty-insecure-server.pem"),
            include_str!("../../tests/fixtures/tls/v3-nosan-server.pem"),
        ] {
            let original = der(pem);
            let mut changed = original.clone();
            for index in 0..changed.len() {
                for value in [0x00, 0x01, 0x7f, 0x80, 0x81, 0x84, 0xc3, 0xff] {
                    changed[index] = value;
                    let _ = Certificate::parse(&changed);
                }
                changed[index] = original[index];
            }
        }
    }

    #[test]
    fn a_date_with_a_multibyte_character_is_an_error() {
        // 13 bytes, as a UTCTime must be, but not 13 characters: sliced by bytes, it panicked.
        let contents = "2101010\u{e9}000Z".as_bytes();
        assert_eq!(contents.len(), 13);
        let element = Element {
            tag: UTC_TIME,
            contents,
            whole: contents,
        };
        assert!(time(element).is_err());
    }

    #[test]
    fn the_extensions_a_no_san_leaf_is_judged_by() {
        let read = |pem: &str| {
            let der = der(pem);
            let leaf = Certificate::parse(&der).unwrap();
            (
                leaf.has_subject_alt_name,
                leaf.is_ca,
                leaf.allows_server_auth,
                leaf.unknown_critical_extension,
            )
        };
        let fixture = |name: &str| {
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/tls/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        assert_eq!(
            read(&fixture("v3-nosan-server.pem")),
            (false, false, Some(true), false)
        );
        assert_eq!(
            read(&fixture("v3-nosan-ca.pem")),
            (false, true, None, false)
        );
        assert_eq!(
            read(&fixture("v3-nosan-client.pem")),
            (false, false, Some(false), false)
        );
        assert_eq!(
            read(&fixture("v3-nosan-critical.pem")),
            (false, false, None, true)
        );
    }

    #[test]
    fn calendar_round_trip() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2031, 8, 22), (2099, 12, 31)] {
            let t = UNIX_EPOCH + Duration::from_secs(days_from_civil(y, m, d) as u64 * 86_400);
            assert_eq!(format_time(t), format!("{y:04}-{m:02}-{d:02} 00:00:00 UTC"));
        }
    }
}
