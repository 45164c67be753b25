//! HTTPS listeners (self-signed certificates made in the test, SNI, HTTP/2 through ALPN) and
//! HTTP upgrades tunnelled to the target.

mod common;

use berth_proxy_protocol::*;
use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn certificate(arn: &str, names: &[&str]) -> (Certificate, CertificateDer<'static>) {
    let generated = rcgen::generate_simple_self_signed(names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>())
        .expect("a self-signed certificate");
    let der = generated.cert.der().clone();
    let certificate = Certificate {
        certificate_arn: arn.into(),
        certificate_chain_pem: generated.cert.pem(),
        private_key_pem: generated.key_pair.serialize_pem(),
    };
    (certificate, der)
}

/// The test looks at which certificate the proxy chose, so it accepts any.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_config(alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Arc::new(config)
}

async fn connect(
    address: SocketAddr,
    server_name: &str,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    tokio_rustls::TlsConnector::from(client_config(alpn))
        .connect(ServerName::try_from(server_name.to_owned()).unwrap(), tcp)
        .await
        .expect("a TLS handshake")
}

fn https_document(certificates: Vec<Certificate>, upstream: SocketAddr, http2: bool) -> ProxyDocument {
    let mut the_listener = listener("listener/tls", vec![rule(None, vec![], forward(&[("tg/app", 1)]))]);
    the_listener.protocol = ListenerProtocol::Https;
    the_listener.certificate_arns =
        certificates.iter().map(|certificate| certificate.certificate_arn.clone()).collect();
    the_listener.http2 = http2;
    ProxyDocument {
        generation: 1,
        listeners: vec![the_listener],
        target_groups: vec![group("tg/app", vec![target(upstream)], false)],
        certificates,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_over_http2_with_sni_certificate_choice() {
    let upstream = Upstream::start("secure").await;
    let (default, default_der) = certificate("cert/default", &["default.example.com"]);
    let (wildcard, wildcard_der) = certificate("cert/wildcard", &["*.example.com"]);
    let (exact, exact_der) = certificate("cert/exact", &["app.example.com"]);
    let proxy = start_proxy();
    let address = serve(&proxy, https_document(vec![default, wildcard, exact], upstream.address, true));

    for (server_name, expected) in
        [("app.example.com", &exact_der), ("shop.example.com", &wildcard_der), ("elsewhere.test", &default_der)]
    {
        let stream = connect(address, server_name, &[b"h2", b"http/1.1"]).await;
        let (_, session) = stream.get_ref();
        assert_eq!(session.peer_certificates().unwrap()[0], *expected, "certificate for {server_name}");
    }

    let stream = connect(address, "app.example.com", &[b"h2", b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    for _ in 0..3 {
        let request = hyper::Request::get("https://app.example.com/over-h2").body(Empty::<Bytes>::new()).unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        assert_eq!(response.headers()["x-seen-proto"], "https");
        assert_eq!(response.headers()["x-seen-host"], "app.example.com", "the authority becomes the Host");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"secure");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_off_offers_only_http1() {
    let upstream = Upstream::start("secure").await;
    let (only, _) = certificate("cert/only", &["app.example.com"]);
    let proxy = start_proxy();
    let address = serve(&proxy, https_document(vec![only], upstream.address, false));
    let stream = connect(address, "app.example.com", &[b"h2", b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get("/").header("host", "app.example.com").body(Empty::<Bytes>::new()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.headers()["x-upstream"], "secure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_certificate_is_a_listener_error() {
    let proxy = start_proxy();
    let broken = Certificate {
        certificate_arn: "cert/broken".into(),
        certificate_chain_pem: "not a certificate".into(),
        private_key_pem: "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n".into(),
    };
    proxy.apply(https_document(vec![broken], closed_port_address(), true));
    let errors = proxy.listener_errors();
    assert_eq!(errors.len(), 1);
    let message = errors[0].error.clone().unwrap();
    assert!(message.contains("cert/broken"), "{message}");
    assert!(!message.contains("secret"), "private keys are never in messages: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_are_tunnelled_both_ways() {
    let upstream = Upstream::start("echo").await;
    let proxy = start_proxy();
    let address = serve(
        &proxy,
        document(
            1,
            vec![listener("listener/a", vec![rule(None, vec![], forward(&[("tg/app", 1)]))])],
            vec![group("tg/app", vec![target(upstream.address)], false)],
        ),
    );
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /socket HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n").await.unwrap();
    // Read the 101 head byte by byte so that no tunnelled byte is swallowed with it.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "a response head");
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the head so far: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_ascii_lowercase().contains("upgrade: echo"), "{head}");
    for message in [&b"hello"[..], b"and again"] {
        stream.write_all(message).await.unwrap();
        let mut echoed = vec![0u8; message.len()];
        stream.read_exact(&mut echoed).await.unwrap();
        assert_eq!(echoed, message);
    }
}
