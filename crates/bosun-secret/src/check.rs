//! Checks a candidate value must pass after its regex matched: checksums,
//! structure, entropy, and the placeholders documentation is full of.

/// CRC-32 (IEEE 802.3, as zlib computes it), table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The two base-62 digit orders in use: GitHub does not publish which one
/// its checksum uses, implementations differ, and accepting both only
/// doubles a 62^-6 false-accept rate.
const BASE62: [&[u8; 62]; 2] = [
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
];

/// `n` in base 62 with `digits`, left-padded to six (a u32 needs at most six).
pub fn base62_6(mut n: u32, digits: &[u8; 62]) -> [u8; 6] {
    let mut out = [digits[0]; 6];
    for slot in out.iter_mut().rev() {
        *slot = digits[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// GitHub's token format: a prefix, 30 random base62 characters, then the
/// CRC-32 of those 30 characters in base 62 (six digits). A typo or a made-up
/// token fails this with probability 1 - 62^-6.
pub fn github_checksum_ok(token: &str) -> bool {
    let Some((_, body)) = token.split_once('_') else {
        return false;
    };
    let (random, sum) = match (body.get(..30), body.get(30..)) {
        (Some(r), Some(s)) if s.len() == 6 => (r, s),
        _ => return false,
    };
    let crc = crc32(random.as_bytes());
    BASE62.iter().any(|d| base62_6(crc, d) == sum.as_bytes())
}

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Decode standard or URL-safe base64, padding optional, whitespace (and
/// JSON-escaped `\n`) ignored. None on any other character.
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut i = 0;
    let mut padded = false;
    while i < s.len() {
        let c = s[i];
        i += 1;
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padded = true;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            b'\\' if s.get(i) == Some(&b'n') => {
                i += 1;
                continue;
            }
            _ => return None,
        };
        if padded {
            return None; // data after padding
        }
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Values that are obviously not real: documentation examples, masks, runs
/// of one character.
pub fn looks_fake(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    const MARKERS: [&str; 6] = ["example", "xxxxxx", "000000", "******", "123456", "abcdef"];
    MARKERS.iter().any(|m| lower.contains(m)) || entropy(v.as_bytes()) < 2.0
}

/// Words that, inside a value, mean a placeholder or code, not a secret.
const STOP_WORDS: [&str; 26] = [
    "changeme",
    "change_me",
    "change-me",
    "example",
    "xxx",
    "***",
    "...",
    "placeholder",
    "your",
    "redacted",
    "dummy",
    "sample",
    "secret",
    "password",
    "passwd",
    "todo",
    "replace",
    "insert",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "%(",
    "%s",
    "$(",
];

const LITERALS: [&str; 8] = [
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "required",
];

/// Is `v`, assigned to a key that sounds secret, plausibly a real secret?
/// Rejects references, code, placeholders and low-entropy values.
pub fn plausible_value(v: &str, min_len: usize, min_entropy: f64) -> bool {
    if v.len() < min_len {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if LITERALS.contains(&lower.as_str()) || STOP_WORDS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    // References, paths, expressions: `$VAR`, `/run/secrets/x`, `=x`, `[...]`.
    if v.starts_with([
        '$', '%', '=', '/', '.', '~', '{', '[', '(', '@', '&', '*', '\\', '#', '!', '+', '?',
    ]) {
        return false;
    }
    // Code (a call, an index), prose, or interpolation (`pre$VAR`).
    if v.contains('(') || v.contains('[') || v.contains(|c: char| c.is_ascii_whitespace()) {
        return false;
    }
    if v.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'{' || w[1] == b'_'))
    {
        return false;
    }
    let identifier = v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        && !v.starts_with(|c: char| c.is_ascii_digit());
    if identifier && !v.bytes().any(|b| b.is_ascii_digit()) {
        return false; // a variable or constant name
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    entropy(v.as_bytes()) >= min_entropy
}

/// A JWT: three base64url parts whose first two decode to JSON objects, the
/// header naming an algorithm.
pub fn jwt_ok(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let object = |s: &str| {
        base64_decode(s.as_bytes()).is_some_and(|d| {
            let t = d.trim_ascii();
            t.starts_with(b"{") && t.ends_with(b"}")
        })
    };
    object(h)
        && object(p)
        && base64_decode(h.as_bytes()).is_some_and(|d| d.windows(5).any(|w| w == b"\"alg\""))
}

/// Docker's `auth`: base64 of `user:password`, both non-empty.
pub fn docker_auth_ok(v: &str) -> bool {
    let Some(d) = base64_decode(v.as_bytes()) else {
        return false;
    };
    let Ok(s) = std::str::from_utf8(&d) else {
        return false;
    };
    match s.split_once(':') {
        Some((user, pass)) => !user.is_empty() && !pass.is_empty() && !looks_fake(pass),
        None => false,
    }
}

/// kubeconfig `client-key-data`: base64 of a PEM private key.
pub fn kube_key_data_ok(v: &str) -> bool {
    base64_decode(v.as_bytes()).is_some_and(|d| {
        d.windows(11).any(|w| w == b"PRIVATE KEY") && d.windows(10).any(|w| w == b"-----BEGIN")
    })
}

/// The armour type of a private key block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Dsa,
    OpenSsh,
    Pgp,
    Pkcs8,
}

/// Look inside a private key block (BEGIN line to END line): is it a real
/// key, and is it protected by a passphrase? Some(None) when it is a key
/// whose protection cannot be told.
pub fn private_key(kind: KeyKind, block: &str) -> Option<Option<bool>> {
    // JSON strings carry the newlines escaped.
    let text = block.replace("\\n", "\n");
    let mut lines = text.lines().map(str::trim);
    let begin = lines.next()?;
    let mut headers = String::new();
    let mut body = String::new();
    let mut in_headers = true;
    for line in lines {
        if line.starts_with("-----END") {
            break;
        }
        if in_headers && line.contains(':') {
            headers.push_str(line);
            headers.push('\n');
            continue;
        }
        in_headers = false;
        // The optional CRC-24 line of PGP armour.
        if kind == KeyKind::Pgp && line.starts_with('=') && line.len() == 5 {
            continue;
        }
        body.push_str(line);
    }
    let der = base64_decode(body.as_bytes())?;
    if der.len() < 32 {
        return None;
    }
    match kind {
        KeyKind::Rsa | KeyKind::Ec | KeyKind::Dsa => {
            let encrypted = headers.contains("Proc-Type: 4,ENCRYPTED");
            (encrypted || der.first() == Some(&0x30)).then_some(Some(encrypted))
        }
        KeyKind::Pkcs8 => {
            (der.first() == Some(&0x30)).then_some(Some(begin.contains("ENCRYPTED PRIVATE KEY")))
        }
        KeyKind::OpenSsh => openssh_encrypted(&der).map(Some),
        KeyKind::Pgp => (der.first().is_some_and(|b| b & 0x80 != 0)).then(|| pgp_encrypted(&der)),
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self) -> Option<usize> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(n)
    }
}

/// openssh-key-v1: magic, then the cipher and KDF names; "none" for both
/// means no passphrase.
fn openssh_encrypted(der: &[u8]) -> Option<bool> {
    let mut c = Cursor(der.strip_prefix(b"openssh-key-v1\0")?);
    let cipher = c.string()?;
    let kdf = c.string()?;
    Some(cipher != b"none" || kdf != b"none")
}

/// The first packet of a transferable secret key (RFC 4880 / 9580): skip the
/// public key material to the S2K usage octet; 0 means stored in the clear.
fn pgp_encrypted(der: &[u8]) -> Option<bool> {
    let mut c = Cursor(der);
    let tag_byte = c.u8()?;
    let (tag, _len) = if tag_byte & 0x40 != 0 {
        let first = c.u8()? as usize;
        let len = match first {
            0..=191 => first,
            192..=223 => ((first - 192) << 8) + c.u8()? as usize + 192,
            255 => c.u32()?,
            _ => return None, // partial lengths: not how keys are exported
        };
        (tag_byte & 0x3f, len)
    } else {
        let len = match tag_byte & 3 {
            0 => c.u8()? as usize,
            1 => c.u16()?,
            2 => c.u32()?,
            _ => return None,
        };
        ((tag_byte >> 2) & 0x0f, len)
    };
    if tag != 5 && tag != 7 {
        return None;
    }
    let version = c.u8()?;
    c.take(4)?; // creation time
    let algo = c.u8()?;
    match version {
        4 => {
            let mpi = |c: &mut Cursor| -> Option<()> {
                let bits = c.u16()?;
                c.take(bits.div_ceil(8)).map(|_| ())
            };
            let oid = |c: &mut Cursor| -> Option<()> {
                let n = c.u8()? as usize;
                c.take(n).map(|_| ())
            };
            match algo {
                1..=3 => (0..2).try_for_each(|_| mpi(&mut c))?,
                16 | 20 => (0..3).try_for_each(|_| mpi(&mut c))?,
                17 => (0..4).try_for_each(|_| mpi(&mut c))?,
                19 | 22 => {
                    oid(&mut c)?;
                    mpi(&mut c)?;
                }
                18 => {
                    oid(&mut c)?;
                    mpi(&mut c)?;
                    oid(&mut c)?; // KDF parameters, also length-prefixed
                }
                _ => return None,
            }
        }
        5 | 6 => {
            let n = c.u32()?;
            c.take(n)?;
        }
        _ => return None,
    }
    Some(c.u8()? != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 check value of "123456789" from the CRC catalogue.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn base62_padding() {
        assert_eq!(&base62_6(0, BASE62[1]), b"000000");
        assert_eq!(&base62_6(61, BASE62[1]), b"00000z");
        assert_eq!(&base62_6(61, BASE62[0]), b"00000Z");
        assert_eq!(&base62_6(u32::MAX, BASE62[1]), b"4gfFC3");
    }

    #[test]
    fn base64_variants() {
        assert_eq!(
            base64_decode(b"dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(base64_decode(b"dXNlcg==").as_deref(), Some(&b"user"[..]));
        assert_eq!(base64_decode(b"dXN\\nlcg").as_deref(), Some(&b"user"[..]));
        assert_eq!(base64_decode(b"dXNlcg==AA"), None);
        assert_eq!(base64_decode(b"not base64!"), None);
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b"aaaaaaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn plausible_values() {
        assert!(plausible_value("Sup3r-S3cret-ca2bad24", 8, 3.0));
        for v in [
            "changeme",
            "${DB_PASSWORD}",
            "<password>",
            "xxxxxxxxxx",
            "/run/secrets/db",
            "os.environ.get(\"X\")",
            "settings.DATABASE_PASSWORD",
            "get_password",
            "None",
            "12345678901",
            "aaaaaaaaaaaa",
            "{{ .Values.password }}",
            "geheim$parole",
            "CSRF token missing or incorrect.",
        ] {
            assert!(!plausible_value(v, 8, 3.0), "{v}");
        }
    }

    #[test]
    fn hostile_pgp_and_openssh_bodies() {
        assert_eq!(openssh_encrypted(b"openssh-key-v1\0\xff\xff\xff\xff"), None);
        assert_eq!(pgp_encrypted(&[0xc5, 0xff, 0xff]), None);
        assert_eq!(pgp_encrypted(&[]), None);
        assert_eq!(pgp_encrypted(&[0x95, 0x00]), None);
    }
}
