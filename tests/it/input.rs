//! The shared input loader: every bad input is exit-2 class, names the file, and says where and what.

use serde::Deserialize;
use shipcheck::input::{read_json, read_toml, MAX_INPUT_SIZE};
use shipcheck::report::{Class, Code, Reason};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Own {
    name: String,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Item {
    port: u16,
}

fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn json_err(body: &[u8]) -> Reason {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "in.json", body);
    let e = read_json::<Own>(&p).unwrap_err();
    assert_eq!(e.code.class(), Class::Error);
    assert!(
        e.message.contains("in.json"),
        "names the file: {}",
        e.message
    );
    e
}

#[test]
fn good_json_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ok.json",
        b"\xEF\xBB\xBF{\"name\":\"a\",\"items\":[{\"port\":443}]}\n",
    );
    let v: Own = read_json(&p).unwrap();
    assert_eq!(v.items[0].port, 443);
}

#[test]
fn malformed_json() {
    let e = json_err(b"{\n  \"name\": \"a\",\n  \"items\": [ {\"port\": 1} {\"port\": 2} ]\n}");
    assert_eq!(e.code, Code::InvalidInput);
    assert!(
        e.message.contains("not valid JSON") && e.message.contains("line 3"),
        "{}",
        e.message
    );
}

#[test]
fn truncated_json() {
    let e = json_err(b"{\"name\": \"a\", \"items\": [");
    assert!(e.message.contains("incomplete"), "{}", e.message);
}

#[test]
fn missing_field_wrong_type_unknown_key() {
    let e = json_err(b"{\"name\":\"a\",\"items\":[{\"port\":1},{}]}");
    assert!(
        e.message.contains("`items[1]`") && e.message.contains("missing field `port`"),
        "{}",
        e.message
    );
    let e = json_err(b"{\"name\":\"a\",\"items\":[{\"port\":\"443\"}]}");
    assert!(
        e.message.contains("`items[0].port`") && e.message.contains("expected u16"),
        "{}",
        e.message
    );
    let e = json_err(b"{\"name\":\"a\",\"items\":[],\"extra\":1}");
    assert!(
        e.message.contains("unknown field `extra`")
            && e.message.contains("expected `name` or `items`"),
        "{}",
        e.message
    );
    let e = json_err(b"{\"name\":\"a\",\"items\":[{\"port\":70000}]}");
    assert!(e.message.contains("`items[0].port`"), "{}", e.message);
}

#[test]
fn trailing_data() {
    let e = json_err(b"{\"name\":\"a\",\"items\":[]}\n{\"name\":\"b\",\"items\":[]}");
    assert!(
        e.message.contains("after the JSON document"),
        "{}",
        e.message
    );
}

#[test]
fn empty_and_whitespace_files() {
    for body in [&b""[..], b"  \n\t\n"] {
        let e = json_err(body);
        assert_eq!(e.code, Code::InvalidInput);
        assert!(e.message.contains("is empty"), "{}", e.message);
    }
}

#[test]
fn directory_missing_file_too_large_utf16() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_json::<Own>(dir.path()).unwrap_err();
    assert_eq!(e.code, Code::InvalidInput);
    assert!(e.message.contains("is a directory"), "{}", e.message);

    let missing = dir.path().join("nope.json");
    let e = read_json::<Own>(&missing).unwrap_err();
    assert_eq!(e.code, Code::Io);
    assert!(
        e.message.contains("nope.json") && e.message.contains("no such file"),
        "{}",
        e.message
    );

    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_INPUT_SIZE + 1).unwrap();
    let e = read_json::<Own>(&big).unwrap_err();
    assert_eq!(e.code, Code::InvalidInput);
    assert!(e.message.contains("MiB"), "{}", e.message);

    let p = write(dir.path(), "u16.json", b"\xFF\xFE{\0}\0");
    let e = read_json::<Own>(&p).unwrap_err();
    assert!(e.message.contains("UTF-16"), "{}", e.message);
}

#[test]
fn toml_errors_name_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.toml",
        b"name = \"x\"\n[[items]]\nport = 1\n[[items]]\nport = \"443\"\n",
    );
    let e = read_toml::<Own>(&p).unwrap_err();
    assert_eq!(e.code, Code::InvalidInput);
    assert!(
        e.message.contains("a.toml")
            && e.message.contains("`items[1].port`")
            && e.message.contains("line 5"),
        "{}",
        e.message
    );

    let p = write(dir.path(), "b.toml", b"name = \"x\"\nitems = [\n");
    let e = read_toml::<Own>(&p).unwrap_err();
    assert!(
        e.message.contains("b.toml") && e.message.contains("not valid TOML"),
        "{}",
        e.message
    );

    let p = write(
        dir.path(),
        "c.toml",
        b"name = \"x\"\nitems = []\ncolour = 1\n",
    );
    let e = read_toml::<Own>(&p).unwrap_err();
    assert!(
        e.message.contains("unknown field `colour`") && e.message.contains("line 3"),
        "{}",
        e.message
    );

    let p = write(dir.path(), "d.toml", b"items = []\n");
    let e = read_toml::<Own>(&p).unwrap_err();
    assert!(e.message.contains("missing field `name`"), "{}", e.message);

    let p = write(
        dir.path(),
        "ok.toml",
        b"name = \"x\"\n[[items]]\nport = 443\n",
    );
    let v: Own = read_toml(&p).unwrap();
    assert_eq!(v.name, "x");
}
