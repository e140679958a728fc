//! The lookup pin printed on the receipt (*mã tra cứu*): 6 characters from an alphabet
//! without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G), stored only as a keyed hash
//! (HMAC-SHA-256 with the server secret, bound to the dossier code). Pure: the caller
//! supplies the random bytes and the key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The characters a pin is made of.
pub const PIN_ALPHABET: &[u8] = b"ACDEFHJKMNPQRTUVWXY34679";
pub const PIN_LENGTH: usize = 6;

/// A pin from a source of random bytes (rejection sampling: no bias).
pub fn generate_pin(mut random_byte: impl FnMut() -> u8) -> String {
    let n = PIN_ALPHABET.len();
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(PIN_LENGTH);
    while out.len() < PIN_LENGTH {
        let b = usize::from(random_byte());
        if b < limit {
            out.push(char::from(PIN_ALPHABET[b % n]));
        }
    }
    out
}

/// The pin of an intake repeated with the same idempotency key: derived from the server's
/// pin key and `context` (the account and the key), so that the repeated answer carries the
/// same pin without any pin being stored.
pub fn derived_pin(key: &[u8], context: &str) -> String {
    let mut block = 0u32;
    let mut bytes: Vec<u8> = Vec::new();
    let mut next = 0usize;
    generate_pin(|| {
        if next == bytes.len() {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(b"idempotent pin:");
            mac.update(context.as_bytes());
            mac.update(&block.to_be_bytes());
            block += 1;
            bytes = mac.finalize().into_bytes().to_vec();
            next = 0;
        }
        next += 1;
        bytes[next - 1]
    })
}

/// A pin as typed by a citizen: trimmed and upper-cased; `None` if it cannot be a pin.
pub fn normalise_pin(typed: &str) -> Option<String> {
    let p = typed.trim().to_ascii_uppercase();
    (p.len() == PIN_LENGTH && p.bytes().all(|b| PIN_ALPHABET.contains(&b))).then_some(p)
}

/// The stored form of a pin: hex HMAC-SHA-256(key, code ":" pin).
pub fn hash_pin(key: &[u8], code: &str, pin: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(code.as_bytes());
    mac.update(b":");
    mac.update(pin.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `pin` matches the stored hash, in constant time.
pub fn verify_pin(key: &[u8], code: &str, pin: &str, stored: &str) -> bool {
    use subtle::ConstantTimeEq;
    let computed = hash_pin(key, code, pin);
    computed.as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod derived_tests {
    use super::*;

    #[test]
    fn a_derived_pin_is_a_pin_and_depends_on_key_and_context() {
        let a = derived_pin(b"k1", "portal.dvc:key-1");
        assert_eq!(a, derived_pin(b"k1", "portal.dvc:key-1"));
        assert!(normalise_pin(&a).is_some(), "{a}");
        assert_ne!(a, derived_pin(b"k2", "portal.dvc:key-1"));
        assert_ne!(a, derived_pin(b"k1", "portal.dvc:key-2"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_use_only_the_alphabet() {
        let mut x: u8 = 0;
        for _ in 0..1000 {
            let pin = generate_pin(|| {
                x = x.wrapping_mul(31).wrapping_add(7);
                x
            });
            assert_eq!(pin.len(), PIN_LENGTH);
            assert!(normalise_pin(&pin.to_lowercase()).is_some());
        }
        assert!(normalise_pin("ABC0EF").is_none());
        assert!(normalise_pin("ACDEF").is_none());
    }

    #[test]
    fn hashes_bind_code_and_pin() {
        let k = b"key";
        let h = hash_pin(k, "A-1", "ACDEFH");
        assert!(verify_pin(k, "A-1", "ACDEFH", &h));
        assert!(!verify_pin(k, "A-2", "ACDEFH", &h));
        assert!(!verify_pin(k, "A-1", "ACDEFJ", &h));
        assert!(!verify_pin(b"other", "A-1", "ACDEFH", &h));
    }
}
