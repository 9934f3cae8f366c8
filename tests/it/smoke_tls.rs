use crate::common;

#[test]
fn test_ca_writes_pem_files() {
    let d = tempfile::tempdir().unwrap();
    let ca = common::tls::TestCa::new(d.path());
    let pem = std::fs::read_to_string(&ca.ca_cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(std::fs::read_to_string(&ca.server_key)
        .unwrap()
        .contains("PRIVATE KEY"));
}
