//! The signed JWT a certificate credential sends instead of a client secret
//! (`client_assertion`), in the format Microsoft Entra documents for certificate credentials:
//! header `alg` RS256, `typ` JWT, `x5t` and `x5t#S256`; claims `aud` (the token endpoint), `iss`
//! and `sub` (the client ID), `jti` (a fresh GUID), `nbf`, `iat` and `exp` (10 minutes later).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use super::credential::{CertificateCredential, CredentialError};

/// `client_assertion_type` for a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid (Microsoft: "5-10 minutes after nbf at most").
pub const LIFETIME_SECS: u64 = 600;

#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    x5t: &'a str,
    #[serde(rename = "x5t#S256")]
    x5t_s256: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: &'a str,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// Builds and signs the assertion for `client_id` at `token_url`, issued at `now_unix`.
pub fn client_assertion(
    cert: &CertificateCredential,
    client_id: &str,
    token_url: &str,
    now_unix: u64,
    jti: &str,
) -> Result<String, CredentialError> {
    let header = JwtHeader {
        alg: "RS256",
        typ: "JWT",
        x5t: cert.x5t(),
        x5t_s256: cert.x5t_s256(),
    };
    let claims = Claims {
        aud: token_url,
        iss: client_id,
        sub: client_id,
        jti,
        nbf: now_unix,
        iat: now_unix,
        exp: now_unix + LIFETIME_SECS,
    };
    let signing_input = format!("{}.{}", encode_json(&header), encode_json(&claims));
    let signature = cert.sign_rs256(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn encode_json(value: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("plain structs serialize"))
}

/// A random (version 4) GUID in the usual `8-4-4-4-12` form, for `jti` and `client-request-id`.
pub fn random_guid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    use super::*;

    fn credential() -> CertificateCredential {
        CertificateCredential::from_pem(
            include_bytes!("../../tests/fixtures/oauth/test-cert.pem"),
            Path::new("cert.pem"),
            include_bytes!("../../tests/fixtures/oauth/test-key.pem"),
            Path::new("key.pem"),
        )
        .unwrap()
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn header_and_claims_are_as_documented() {
        let cert = credential();
        let url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
        let jwt = client_assertion(&cert, "app-id", url, 1_700_000_000, "jti-1").unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg": "RS256", "typ": "JWT",
                "x5t": "Jegz9rqYJqSfIisvZNfT8jV-iQg",
                "x5t#S256": "oUFHMBLXzobMosstV5Es3MzVy_NNFrYeP7lBrv1pVxk"})
        );
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({"aud": url, "iss": "app-id", "sub": "app-id", "jti": "jti-1",
                "nbf": 1_700_000_000u64, "iat": 1_700_000_000u64, "exp": 1_700_000_600u64})
        );
    }

    #[test]
    fn signature_covers_header_and_claims() {
        let cert = credential();
        let jwt = client_assertion(&cert, "app", "https://x/t/oauth2/v2.0/token", 1, "j").unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key_der());
        public.verify(input.as_bytes(), &sig).unwrap();
        let tampered = input.replacen('e', "f", 1);
        assert!(public.verify(tampered.as_bytes(), &sig).is_err());
    }

    /// The public half of the fixture key, derived independently of `CertificateCredential`.
    fn public_key_der() -> Vec<u8> {
        use ring::signature::{KeyPair, RsaKeyPair};
        use rustls_pki_types::pem::PemObject;
        let pem = include_bytes!("../../tests/fixtures/oauth/test-key.pem");
        let key = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem).unwrap();
        let pair = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).unwrap();
        pair.public_key().as_ref().to_vec()
    }

    #[test]
    fn guids_are_fresh_and_well_formed() {
        let a = random_guid();
        let b = random_guid();
        assert_ne!(a, b);
        assert!(crate::inputs::address::is_guid(&a), "{a}");
        assert_eq!(&a[14..15], "4");
    }
}
