//! Password encryption for `login`: RSA PKCS#1 v1.5 over the UTF-8 password with the key the
//! server hands out in `generatePublicKey`, sent as lowercase hex.

use rsa::{BoxedUint, PublicKey};
use secrecy::{ExposeSecret, SecretString};

/// Smallest and largest modulus accepted from a server. Tableau's real key size is not
/// known (docs/protocol.md §2.2), so anything a sane server could use is accepted, except
/// a key so short (under 1,024 bits) that an eavesdropper could factor it and read the
/// password.
const MODULUS_BITS: std::ops::RangeInclusive<usize> = 1024..=8192;

/// Parse a hex string of either case and any length (`"10001"` is odd) into bytes.
fn hex_bytes(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim().trim_start_matches("0x");
    let padded;
    let even = if text.len() % 2 == 1 {
        padded = format!("0{text}");
        padded.as_str()
    } else {
        text
    };
    hex::decode(even).map_err(|e| format!("generatePublicKey returned a bad {field}: {e}"))
}

/// Encrypt `password` with the modulus `n_hex` and exponent `e_hex` as Tableau's web client
/// does. Returns `2*k` lowercase hex characters (k = modulus bytes).
pub fn encrypt_password(
    n_hex: &str,
    e_hex: &str,
    password: &SecretString,
) -> Result<String, String> {
    let n = BoxedUint::from_be_slice_vartime(&hex_bytes("key.n", n_hex)?);
    let e = BoxedUint::from_be_slice_vartime(&hex_bytes("key.e", e_hex)?);
    let key = PublicKey::new_with_size_limits(n, e, MODULUS_BITS)
        .map_err(|e| format!("generatePublicKey returned an unusable RSA key: {e}"))?;
    let ciphertext = key
        .pkcs1v15_encrypt(password.expose_secret().as_bytes())
        .map_err(|e| format!("cannot encrypt the password with the server's key: {e}"))?;
    Ok(hex::encode(ciphertext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::PrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;

    fn fixture_key() -> PrivateKey {
        let pem = include_str!("../../tests/fixtures/emulator_key.pem");
        PrivateKey::from_pkcs8_pem(pem).expect("fixture key parses")
    }

    #[test]
    fn a_key_too_short_to_keep_a_password_is_refused() {
        let modulus = |bits: usize| format!("c{}1", "0".repeat(bits / 4 - 2));
        let password = SecretString::from("pw");
        let error = encrypt_password(&modulus(512), "10001", &password).unwrap_err();
        assert!(error.contains("unusable RSA key"), "{error}");
        // The same kind of key at 1,024 bits is used: only the size was refused.
        let encrypted = encrypt_password(&modulus(1024), "10001", &password).unwrap();
        assert_eq!(encrypted.len(), 256);
    }

    #[test]
    fn round_trips_with_odd_length_exponent() {
        let sk = fixture_key();
        let pk = sk.to_public_key();
        let n_hex = hex::encode(pk.n_bytes());
        let e_hex = hex::encode(pk.e_bytes())
            .trim_start_matches('0')
            .to_string();
        assert_eq!(e_hex, "10001");
        let secret = SecretString::from("pässword");
        let ct = encrypt_password(&n_hex.to_uppercase(), &e_hex, &secret).unwrap();
        assert_eq!(ct.len(), 512);
        assert_eq!(ct, ct.to_lowercase());
        let plain = sk.pkcs1v15_decrypt(&hex::decode(ct).unwrap()).unwrap();
        assert_eq!(plain, "pässword".as_bytes());
    }

    #[test]
    fn rejects_non_hex_modulus() {
        let err = encrypt_password("zz", "10001", &SecretString::from("x")).unwrap_err();
        assert!(err.contains("key.n"), "{err}");
    }
}
