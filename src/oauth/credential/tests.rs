use std::path::Path;

use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use super::*;

const CERT: &[u8] = include_bytes!("../../../tests/fixtures/oauth/test-cert.pem");
const KEY: &[u8] = include_bytes!("../../../tests/fixtures/oauth/test-key.pem");
const KEY_PKCS1: &[u8] = include_bytes!("../../../tests/fixtures/oauth/test-key-pkcs1.pem");
const OTHER_KEY: &[u8] = include_bytes!("../../../tests/fixtures/oauth/other-key-pkcs1.pem");
const EC_KEY: &[u8] = include_bytes!("../../../tests/fixtures/oauth/ec-key.pem");
const ENCRYPTED_KEY: &[u8] = include_bytes!("../../../tests/fixtures/oauth/encrypted-key.pem");

fn load(cert: &[u8], key: &[u8]) -> Result<CertificateCredential, CredentialError> {
    CertificateCredential::from_pem(cert, Path::new("cert.pem"), key, Path::new("key.pem"))
}

#[test]
fn thumbprints_match_openssl() {
    let cred = load(CERT, KEY).unwrap();
    // Values computed with openssl and hashlib, see tests/fixtures/oauth/README.md.
    assert_eq!(cred.x5t(), "Jegz9rqYJqSfIisvZNfT8jV-iQg");
    assert_eq!(
        cred.x5t_s256(),
        "oUFHMBLXzobMosstV5Es3MzVy_NNFrYeP7lBrv1pVxk"
    );
}

#[test]
fn pkcs1_and_pkcs8_keys_both_load_and_sign_verifiably() {
    for key in [KEY, KEY_PKCS1] {
        let cred = load(CERT, key).unwrap();
        let signature = cred.sign_rs256(b"header.claims").unwrap();
        let public =
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, cred.key.public_key().as_ref());
        public.verify(b"header.claims", &signature).unwrap();
        assert!(public.verify(b"header.claimz", &signature).is_err());
    }
}

#[test]
fn key_of_another_certificate_is_named() {
    let err = load(CERT, OTHER_KEY).unwrap_err();
    assert!(matches!(err, CredentialError::KeyMismatch { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("does not belong to the certificate"));
}

#[test]
fn unusable_keys_say_how_to_fix() {
    let err = load(CERT, ENCRYPTED_KEY).unwrap_err();
    assert!(matches!(err, CredentialError::EncryptedKey { .. }), "{err}");
    assert!(err.to_string().contains("openssl pkcs8"));
    let err = load(CERT, EC_KEY).unwrap_err();
    assert!(matches!(err, CredentialError::NotRsa { .. }), "{err}");
    let err = load(CERT, CERT).unwrap_err();
    assert!(matches!(err, CredentialError::NoKey { .. }), "{err}");
    let err = load(KEY, KEY).unwrap_err();
    assert!(
        matches!(err, CredentialError::NoCertificate { .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("cert.pem: "));
}

#[test]
fn combined_pem_file_works() {
    let mut both = CERT.to_vec();
    both.extend_from_slice(KEY);
    assert!(load(&both, &both).is_ok());
}

#[test]
fn debug_never_shows_key_or_secret() {
    let cred = Credential::Certificate(Arc::new(load(CERT, KEY).unwrap()));
    let shown = format!("{cred:?}");
    assert!(shown.contains("Jegz9rqYJqSfIisvZNfT8jV-iQg"));
    assert!(shown.contains("<redacted>"));
    let secret = Credential::ClientSecret(Secret::new("s3cr3t~value"));
    assert!(!format!("{secret:?}").contains("s3cr3t"));
    assert_eq!(secret.describe(), "client secret");
}
