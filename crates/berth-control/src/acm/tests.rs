//! ACM: reading imports (facts, refusals naming the field), redaction of the private key,
//! durability, and the ties to ELBv2 listeners (certificates must exist, in-use certificates
//! cannot be deleted, the proxy document carries the chain and key).

use super::certificates::CertificateFilter;
use super::pem::{read_import, ImportedMaterial};
use super::{AcmErrorKind, AcmState};
use crate::elb::listeners::NewListener;
use crate::elb::load_balancers::NewLoadBalancer;
use crate::elb::records::ActionRecord;
use crate::elb::ElbErrorKind;
use crate::testing::control_plane;
use crate::{ControlConfig, ControlError, ControlPlane};
use berth_proxy_protocol::Action;
use berth_store::EmbeddedStore;
use berth_types::Tag;
use std::sync::Arc;

struct Issued {
    certificate: String,
    key: String,
}

fn issue(algorithm: &'static rcgen::SignatureAlgorithm, common_name: &str, names: &[&str]) -> Issued {
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|name| name.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Berth Tests");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let certificate = params.self_signed(&key).unwrap();
    Issued { certificate: certificate.pem(), key: key.serialize_pem() }
}

fn p256() -> Issued {
    issue(&rcgen::PKCS_ECDSA_P256_SHA256, "example.com", &["www.example.com", "example.com"])
}

fn material(issued: &Issued) -> ImportedMaterial {
    read_import(issued.certificate.as_bytes(), issued.key.as_bytes(), None).unwrap()
}

fn validation_message(result: Result<ImportedMaterial, super::AcmError>) -> String {
    let error = result.unwrap_err();
    assert_eq!(error.kind, AcmErrorKind::Validation, "{error:?}");
    error.message
}

#[test]
fn an_import_is_read_into_what_acm_shows() {
    let facts = material(&p256()).facts;
    assert_eq!(facts.domain_name.as_deref(), Some("example.com"));
    assert_eq!(facts.subject_alternative_names, ["example.com", "www.example.com"], "the CN first, no repeats");
    assert_eq!(facts.key_algorithm, "EC_prime256v1");
    assert_eq!(facts.signature_algorithm, "SHA256WITHECDSA");
    assert_eq!(facts.issuer, "Berth Tests");
    assert!(facts.subject.contains("CN=example.com"), "{}", facts.subject);
    assert!(facts.serial.contains(':') && facts.serial == facts.serial.to_lowercase(), "{}", facts.serial);
    assert!(facts.not_before < facts.not_after);
    assert_eq!(facts.key_usages, ["DIGITAL_SIGNATURE"]);
    assert_eq!(facts.extended_key_usages[0].name, "TLS_WEB_SERVER_AUTHENTICATION");
    assert_eq!(facts.extended_key_usages[0].oid, "1.3.6.1.5.5.7.3.1");
    let p384 = issue(&rcgen::PKCS_ECDSA_P384_SHA384, "api.example.com", &[]);
    let facts = material(&p384).facts;
    assert_eq!((facts.key_algorithm.as_str(), facts.signature_algorithm.as_str()), ("EC_secp384r1", "SHA384WITHECDSA"));
    assert_eq!(facts.subject_alternative_names, ["api.example.com"]);
}

#[test]
fn bad_imports_are_refused_naming_the_field() {
    let good = p256();
    let other = p256();
    let message = validation_message(read_import(b"not pem", good.key.as_bytes(), None));
    assert!(message.contains("certificate field"), "{message}");
    let message = validation_message(read_import(good.key.as_bytes(), good.key.as_bytes(), None));
    assert!(message.contains("certificate field"), "a key is not a certificate: {message}");
    let two = format!("{}{}", good.certificate, other.certificate);
    let message = validation_message(read_import(two.as_bytes(), good.key.as_bytes(), None));
    assert!(message.contains("more than one certificate"), "{message}");
    let message = validation_message(read_import(good.certificate.as_bytes(), b"garbage", None));
    assert!(message.contains("private key"), "{message}");
    let message = validation_message(read_import(good.certificate.as_bytes(), other.key.as_bytes(), None));
    assert!(message.contains("does not match"), "{message}");
    let message = validation_message(read_import(good.certificate.as_bytes(), good.key.as_bytes(), Some(b"junk")));
    assert!(message.contains("certificate chain"), "{message}");
    let corrupt = good.certificate.replacen("MII", "MIA", 1);
    let message = validation_message(read_import(corrupt.as_bytes(), good.key.as_bytes(), None));
    assert!(message.contains("certificate"), "{message}");
    let ed25519 = issue(&rcgen::PKCS_ED25519, "example.com", &[]);
    let message = validation_message(read_import(ed25519.certificate.as_bytes(), ed25519.key.as_bytes(), None));
    assert!(message.contains("key algorithm is not supported"), "{message}");
}

#[test]
fn no_error_and_no_debug_output_carries_the_private_key() {
    let good = p256();
    let other = p256();
    let key_body: String = good.key.lines().nth(1).unwrap().to_string();
    let material = material(&good);
    assert!(!format!("{material:?}").contains(&key_body));
    assert!(format!("{material:?}").contains("<redacted>"));
    assert_eq!(material.private_key.to_string(), "<redacted>");
    for result in [
        read_import(other.certificate.as_bytes(), good.key.as_bytes(), None),
        read_import(good.certificate.as_bytes(), good.key.replace('A', "?").as_bytes(), None),
        read_import(good.key.as_bytes(), good.key.as_bytes(), None),
    ] {
        let error = result.unwrap_err();
        assert!(!format!("{error:?}{error}").contains(&key_body), "{error:?}");
    }
}

fn listener_spec(load_balancer_arn: &str, certificate: Option<&str>, port: u16) -> NewListener {
    NewListener {
        load_balancer_arn: load_balancer_arn.to_string(),
        protocol: Some("HTTPS".into()),
        port: Some(port),
        certificate: certificate.map(str::to_string),
        default_actions: vec![ActionRecord {
            order: None,
            action: Action::FixedResponse { status_code: 200, content_type: None, message_body: None },
            single_target_group: false,
            stickiness_enabled: false,
        }],
        ..Default::default()
    }
}

async fn load_balancer(control: &ControlPlane) -> String {
    let spec = NewLoadBalancer { name: "web".into(), subnets: vec!["subnet-a".into()], ..Default::default() };
    control.create_load_balancer(spec).await.unwrap().arn
}

#[tokio::test]
async fn imports_describe_list_reimport_and_tags() {
    let control = control_plane();
    let tags = vec![Tag { key: "team".into(), value: "web".into() }];
    let arn = control.import_certificate(None, material(&p256()), tags).await.unwrap();
    assert!(arn.starts_with("arn:aws:acm:us-east-1:") && arn.contains(":certificate/"), "{arn}");
    let view = control.describe_certificate(&arn).unwrap();
    assert_eq!((view.status, view.facts.domain_name.as_deref()), ("ISSUED", Some("example.com")));
    assert!(control.list_certificates(&CertificateFilter::default()).is_empty(), "ACM lists RSA_2048 by default");
    let ec = CertificateFilter { key_types: vec!["EC_prime256v1".into()], ..Default::default() };
    assert_eq!(control.list_certificates(&ec).len(), 1);
    let expired = CertificateFilter { statuses: vec!["EXPIRED".into()], ..ec.clone() };
    assert!(control.list_certificates(&expired).is_empty());

    let replacement = issue(&rcgen::PKCS_ECDSA_P256_SHA256, "example.org", &[]);
    let again = control.import_certificate(Some(arn.clone()), material(&replacement), vec![]).await.unwrap();
    assert_eq!(again, arn, "a re-import keeps the ARN");
    let view = control.describe_certificate(&arn).unwrap();
    assert_eq!(view.facts.domain_name.as_deref(), Some("example.org"));
    assert_eq!(control.certificate_tags(&arn).unwrap().len(), 1, "and the tags");
    let (certificate, chain) = control.get_certificate(&arn).unwrap();
    assert!(certificate.starts_with("-----BEGIN CERTIFICATE-----") && chain.is_none());

    let refused = control
        .import_certificate(Some(arn.clone()), material(&p256()), vec![Tag { key: "a".into(), value: "b".into() }])
        .await
        .unwrap_err();
    assert!(matches!(refused, ControlError::Acm(ref error) if error.kind == AcmErrorKind::Validation));
    let missing = another_arn(&arn);
    let refused = control.describe_certificate(&missing).unwrap_err();
    assert!(matches!(refused, ControlError::Acm(ref error) if error.kind == AcmErrorKind::ResourceNotFound));
    let refused = control.describe_certificate("arn:aws:s3:::bucket").unwrap_err();
    assert!(matches!(refused, ControlError::Acm(ref error) if error.kind == AcmErrorKind::InvalidArn));

    control.add_certificate_tags(&arn, vec![Tag { key: "env".into(), value: "prod".into() }]).await.unwrap();
    let remove = vec![super::tags::TagToRemove { key: "team".into(), value: Some("other".into()) }];
    control.remove_certificate_tags(&arn, remove).await.unwrap();
    assert_eq!(control.certificate_tags(&arn).unwrap().len(), 2, "a value that differs removes nothing");
    let remove = vec![super::tags::TagToRemove { key: "team".into(), value: None }];
    control.remove_certificate_tags(&arn, remove).await.unwrap();
    assert_eq!(control.certificate_tags(&arn).unwrap(), [Tag { key: "env".into(), value: "prod".into() }]);
}

/// An ARN of the same shape that names no certificate: `arn` with its last digit changed.
fn another_arn(arn: &str) -> String {
    let last = if arn.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &arn[..arn.len() - 1])
}

#[tokio::test]
async fn https_listeners_use_imported_certificates_which_cannot_be_deleted_meanwhile() {
    let control = control_plane();
    let load_balancer_arn = load_balancer(&control).await;
    let issued = p256();
    let arn = control.import_certificate(None, material(&issued), vec![]).await.unwrap();
    let unknown = another_arn(&arn);
    let refused = control.create_listener(listener_spec(&load_balancer_arn, Some(&unknown), 8443)).await.unwrap_err();
    assert!(matches!(refused, ControlError::Elb(ref error) if error.kind == ElbErrorKind::CertificateNotFound));

    let listener = control.create_listener(listener_spec(&load_balancer_arn, Some(&arn), 8443)).await.unwrap();
    let sni = control.import_certificate(None, material(&p256()), vec![]).await.unwrap();
    let refused = control.change_listener_certificates(&listener.arn, vec![unknown], vec![]).await.unwrap_err();
    assert!(matches!(refused, ControlError::Elb(ref error) if error.kind == ElbErrorKind::CertificateNotFound));
    control.change_listener_certificates(&listener.arn, vec![sni.clone()], vec![]).await.unwrap();

    let document = control.proxy_document();
    let arns: Vec<&str> = document.certificates.iter().map(|c| c.certificate_arn.as_str()).collect();
    let mut expected = vec![arn.as_str(), sni.as_str()];
    expected.sort();
    assert_eq!(arns, expected);
    let served = document.certificates.iter().find(|c| c.certificate_arn == arn).unwrap();
    assert_eq!(served.certificate_chain_pem.trim(), issued.certificate.trim());
    assert_eq!(served.private_key_pem.trim(), issued.key.trim());

    assert_eq!(control.describe_certificate(&arn).unwrap().in_use_by, [load_balancer_arn]);
    let refused = control.delete_certificate(&sni).await.unwrap_err();
    assert!(matches!(refused, ControlError::Acm(ref error) if error.kind == AcmErrorKind::ResourceInUse));
    let generation = control.proxy_document().generation;
    control.import_certificate(Some(arn.clone()), material(&p256()), vec![]).await.unwrap();
    assert!(control.proxy_document().generation > generation, "proxies take a re-imported certificate");

    control.delete_listener(&listener.arn).await.unwrap();
    control.delete_certificate(&sni).await.unwrap();
    assert!(control.proxy_document().certificates.is_empty());
}

#[tokio::test]
async fn certificates_are_durable() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("berth.redb");
    let issued = p256();
    let arn = {
        let control =
            ControlPlane::open(ControlConfig::default(), Arc::new(EmbeddedStore::open(&path).unwrap())).unwrap();
        control.import_certificate(None, material(&issued), vec![]).await.unwrap()
    };
    let store = EmbeddedStore::open(&path).unwrap();
    let state = AcmState::load(&store).unwrap();
    let record = &state.certificates[&arn];
    assert_eq!(record.private_key.expose().trim(), issued.key.trim());
    assert!(!format!("{record:?}").contains(issued.key.lines().nth(1).unwrap()), "Debug of a record redacts its key");
}
