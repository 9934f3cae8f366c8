//! Manifests and indexes: strict JSON, media types that must agree, descriptors, image configs.

use super::gojson::{self, go_manifest_keys, go_struct_keys, KeyError, TypeError};
use super::{
    Digest, Platform, DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED,
    MAX_INDEX_ENTRIES, OCI_INDEX, OCI_MANIFEST,
};
use super::{DigestError, PlatformError};
use crate::oci::platform::valid_platform_token;
use crate::report::Code;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// Why a manifest (or index) is refused. `what` names the manifest (`manifest of REF`, `index entry 2
/// of ...`); [`ManifestError::code`] is the reason code; hints are the caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// A Docker schema 1 manifest (by header, `mediaType` or `schemaVersion`).
    #[error("{what} is a Docker schema 1 manifest{by}, which shipcheck does not verify (it has no content-addressed config and is deprecated)")]
    Schema1 {
        /// The manifest.
        what: String,
        /// How it was told, when not by its type or version.
        by: &'static str,
    },
    /// Not a well-formed OCI or Docker v2 manifest.
    #[error("{what}: {problem}")]
    Invalid {
        /// The manifest.
        what: String,
        /// What is wrong.
        problem: Problem,
    },
    /// A `mediaType` that is neither an index nor an image manifest (an artifact, say).
    #[error("{what} has media type `{media_type}`, which is not an image index or manifest")]
    UnsupportedMediaType {
        /// The manifest.
        what: String,
        /// Its `mediaType`.
        media_type: String,
    },
    /// Body, `Content-Type` and referring descriptor disagree about what this is.
    #[error("{what}: {mismatch}")]
    MediaTypeMismatch {
        /// The manifest.
        what: String,
        /// Which two disagree.
        mismatch: Mismatch,
    },
    /// An index with more entries than [`MAX_INDEX_ENTRIES`].
    #[error("{what} lists {count} manifests, more than the limit of {MAX_INDEX_ENTRIES}")]
    TooManyEntries {
        /// The index.
        what: String,
        /// How many it lists.
        count: usize,
    },
}

impl ManifestError {
    /// The reason code.
    pub fn code(&self) -> Code {
        match self {
            ManifestError::Schema1 { .. } | ManifestError::UnsupportedMediaType { .. } => {
                Code::UnsupportedMediaType
            }
            ManifestError::Invalid { .. } => Code::InvalidManifest,
            ManifestError::MediaTypeMismatch { .. } => Code::MediaTypeMismatch,
            ManifestError::TooManyEntries { .. } => Code::ManifestTooLarge,
        }
    }
}

/// What makes a manifest or image config invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not JSON, or JSON that strict parsing refuses (duplicate keys, too deep).
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A key Go's decoder reads differently.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A value of a type the runtime's Go decoder refuses.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// The top level is not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// `mediaType` is present and not a string.
    #[error("`mediaType` is not a string")]
    MediaTypeNotAString,
    /// `schemaVersion` is not 2 (as JSON, or `missing`).
    #[error("`schemaVersion` is {0}, expected 2")]
    SchemaVersion(String),
    /// Neither `manifests` nor `config`/`layers`.
    #[error(
        "its JSON is neither an index (`manifests`) nor an image manifest (`config`, `layers`)"
    )]
    Shape,
    /// The index does not fit the index schema.
    #[error("bad index: {0}")]
    Index(String),
    /// The image manifest does not fit the image manifest schema.
    #[error("bad image manifest: {0}")]
    Image(String),
    /// One descriptor (`entry 3`, `config`, `layer 0`) is invalid.
    #[error("{what}: {problem}")]
    Descriptor {
        /// Which descriptor.
        what: String,
        /// Its digest or platform problem.
        problem: DescriptorProblem,
    },
}

/// What is wrong with one descriptor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorProblem {
    /// Its digest.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// Its platform.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// Its embedded `data` is not the content its size names (the OCI image spec requires it to be).
    #[error("its `data` holds {data} bytes but its size is {size}: the OCI image spec requires embedded data to be the content itself")]
    DataSize {
        /// Bytes in `data`.
        data: usize,
        /// The descriptor's size.
        size: u64,
    },
    /// Its embedded `data` is not base64 as Go reads it.
    #[error("its `data` is not base64 (standard alphabet, padded), which the runtime's Go decoder refuses")]
    DataBase64,
    /// Its embedded `data` does not hash to its digest.
    #[error("its `data` does not hash to its digest: containerd takes embedded data instead of fetching the content, and its digest check fails the pull")]
    DataDigest,
}

/// Two statements of what a manifest is that disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The body's `mediaType` against its JSON shape.
    #[error("its `mediaType` says `{media_type}` but its JSON is {}", shape(*.index))]
    BodyShape {
        /// The body's `mediaType`.
        media_type: String,
        /// Whether the JSON is an index.
        index: bool,
    },
    /// Both `manifests` and `config` or `layers` keys, whatever their values (`null`, `[]`).
    #[error("its JSON is both an index (`manifests`) and an image manifest (`config`, `layers`): containerd refuses such a document whichever it is taken for (\"expected manifest but found index\", or the reverse)")]
    BothShapes,
    /// A `Content-Type` that is not a manifest type.
    #[error("the registry sent Content-Type `{0}`, which is not a manifest media type")]
    HeaderUnknown(String),
    /// `Content-Type` against the body's `mediaType`.
    #[error("Content-Type is `{header}` but the body's `mediaType` is `{body}`")]
    HeaderBody {
        /// The header.
        header: String,
        /// The body's `mediaType`.
        body: String,
    },
    /// `Content-Type` against the JSON shape.
    #[error("Content-Type is `{header}` but the JSON is {}", shape(*.index))]
    HeaderShape {
        /// The header.
        header: String,
        /// Whether the JSON is an index.
        index: bool,
    },
    /// The top manifest's `Content-Type`, which runtimes read its media type from, is not a manifest
    /// type as they compare it (exactly, up to the first `;`).
    #[error("the registry sent {}; container runtimes take the top manifest's media type from this header, byte for byte up to any `;` (containerd's resolver), so a pull of this reference fails", top_header(.0.as_deref()))]
    TopHeader(Option<String>),
    /// The referring descriptor's media type against what was served.
    #[error("the referring descriptor says `{expected}` but the registry served `{served}`")]
    Descriptor {
        /// The descriptor's media type.
        expected: String,
        /// The effective media type served.
        served: String,
    },
}

fn top_header(ct: Option<&str>) -> String {
    match ct {
        Some(c) => format!("Content-Type `{c}`"),
        None => "no Content-Type".to_string(),
    }
}

/// The top manifest's media type as container runtimes read it: containerd's resolver takes the
/// `Content-Type` header up to its first `;`, neither trimmed nor lowercased, and pulls only the four
/// manifest types (a generic `application/json`, a missing header or another spelling ends the pull
/// with "unexpected media type"). Docker's registry, ECR, Docker Hub and GHCR send the exact type.
///
/// The type must also be the body's kind, as containerd checks (`validateMediaType`): an index type
/// for an index, a manifest type for a manifest (`index`: whether the body is an index).
pub fn check_top_content_type(
    content_type: Option<&str>,
    index: bool,
    what: &str,
) -> Result<(), ManifestError> {
    let runtime_type = content_type.map(|c| c.split(';').next().unwrap_or(""));
    match runtime_type {
        Some(t) if (is_index_type(t) && index) || (is_image_type(t) && !index) => Ok(()),
        _ => Err(ManifestError::MediaTypeMismatch {
            what: what.to_string(),
            mismatch: Mismatch::TopHeader(content_type.map(str::to_string)),
        }),
    }
}

fn shape(index: bool) -> &'static str {
    if index {
        "an index"
    } else {
        "an image manifest"
    }
}

/// Why an image configuration is refused (reason code `invalid-manifest`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON, not an object of the config schema, or keys Go reads differently.
    #[error("not an image config: {0}")]
    NotAConfig(String),
    /// No `os` or no `architecture`.
    #[error("the image config names no `os` or `architecture`")]
    NoPlatform,
    /// A platform field that is not a single token.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// A value of a type the runtime's Go decoder refuses.
    #[error(transparent)]
    Type(#[from] TypeError),
}

/// Why the runtime cannot unpack an image whose config this is (reason code `unusable-entry`, where
/// the runtime selects the image).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootFsError {
    /// No `rootfs` (or `null`).
    #[error("the image config has no `rootfs`, which names the image's layers (Docker refuses such an image)")]
    NoRootFs,
    /// A `rootfs.diff_ids` entry that is not a sha256 digest.
    #[error("the image config's `rootfs.diff_ids[{index}]` is `{value}`, not a sha256 digest: the runtime compares it with the sha256 of the layer it unpacks, so the pull fails")]
    DiffId {
        /// Its position.
        index: usize,
        /// The value (first 80 characters).
        value: String,
    },
}

/// A platform object in an index entry, as written.
#[derive(Debug, Clone, Deserialize)]
struct PlatformJson {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(rename = "os.version", default)]
    os_version: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<PlatformJson>,
    /// A `null` value is Go's zero value, the empty string.
    #[serde(default)]
    annotations: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    urls: Option<Vec<Option<String>>>,
    #[serde(default)]
    data: Option<String>,
}

/// A content descriptor with a parsed digest.
#[derive(Debug, Clone)]
pub struct Descriptor {
    /// The descriptor's `mediaType`; empty when it has none.
    pub media_type: String,
    /// The digest of the content it describes.
    pub digest: Digest,
    /// The size of that content, in bytes.
    pub size: u64,
    /// The entry's platform (index entries), each field a single token.
    pub platform: Option<Platform>,
    /// The descriptor's `annotations` (empty when absent).
    pub annotations: BTreeMap<String, String>,
    /// Foreign (non-distributable) layers carry URLs.
    pub urls: Vec<String>,
}

impl Descriptor {
    fn from_raw(r: RawDescriptor, what: &str) -> Result<Descriptor, Problem> {
        let bad = |p: DescriptorProblem| Problem::Descriptor {
            what: what.to_string(),
            problem: p,
        };
        let digest = Digest::parse(&r.digest).map_err(|e| bad(e.into()))?;
        // containerd (1.7 and later) uses embedded data of the descriptor's size instead of fetching
        // the content, so data that is not the content fails the pull where the registry's bytes
        // would pass.
        if let Some(data) = r.data.as_deref() {
            let data = gojson::go_base64(data).ok_or_else(|| bad(DescriptorProblem::DataBase64))?;
            if data.len() as u64 != r.size {
                return Err(bad(DescriptorProblem::DataSize {
                    data: data.len(),
                    size: r.size,
                }));
            }
            if !digest.matches(&data) {
                return Err(bad(DescriptorProblem::DataDigest));
            }
        }
        let platform = r
            .platform
            .map(|p| {
                let os_version = p.os_version.as_deref();
                Platform::from_fields(&p.os, &p.architecture, p.variant.as_deref()).and_then(|x| {
                    match os_version {
                        Some(v) if !valid_platform_token(v) => Err(PlatformError::NotAToken {
                            field: "os.version",
                            value: v.to_string(),
                        }),
                        _ => Ok(x.with_os_version(os_version)),
                    }
                })
            })
            .transpose()
            .map_err(|e| bad(e.into()))?;
        Ok(Descriptor {
            media_type: r.media_type.unwrap_or_default(),
            digest,
            size: r.size,
            platform,
            annotations: r
                .annotations
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
            urls: r
                .urls
                .unwrap_or_default()
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect(),
        })
    }

    /// A buildx attestation entry: annotated `vnd.docker.reference.type: attestation-manifest` and
    /// with no real platform (`unknown/unknown` or none). An entry with a real platform is a platform
    /// candidate whatever its annotations say, because the runtime selects by platform alone.
    pub fn is_attestation(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|t| t == "attestation-manifest")
            && self.platform.as_ref().is_none_or(Platform::is_unknown)
    }
}

/// A parsed manifest: an index (OCI index or Docker list) or an image manifest.
// One value per manifest fetched, matched at once: the config descriptor stays inline (boxing it
// would only add an allocation).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Manifest {
    /// An OCI image index or Docker manifest list.
    Index {
        /// The media type in effect: the body's `mediaType`, else the Content-Type, the referring
        /// descriptor's, or the OCI type for the JSON shape.
        media_type: String,
        /// The entries, in the index's order.
        manifests: Vec<Descriptor>,
    },
    /// An OCI image manifest or Docker v2 manifest.
    Image {
        /// The media type in effect, chosen as for an index.
        media_type: String,
        /// The image's config blob.
        config: Descriptor,
        /// The image's layer blobs, in order.
        layers: Vec<Descriptor>,
    },
}

impl Manifest {
    /// The media type in effect for this manifest or index.
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Index { media_type, .. } | Manifest::Image { media_type, .. } => media_type,
        }
    }
}

/// Whether `t` is an index media type (OCI image index or Docker manifest list).
pub fn is_index_type(t: &str) -> bool {
    t == OCI_INDEX || t == DOCKER_LIST
}

/// Whether `t` is an image manifest media type (OCI image manifest or Docker v2 manifest).
pub fn is_image_type(t: &str) -> bool {
    t == OCI_MANIFEST || t == DOCKER_MANIFEST
}

fn is_schema1(t: &str) -> bool {
    t == DOCKER_SCHEMA1 || t == DOCKER_SCHEMA1_SIGNED
}

/// The media type of a Content-Type header value, without parameters, lowercased.
pub fn bare_media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Parses a manifest body. The body's `mediaType` (optional), the `Content-Type` header and the JSON
/// shape must agree; `expected` is the media type the referring descriptor claims (if any).
/// `what` names the manifest in messages.
// Long: one linear sequence of the checks a manifest must pass (size, strict JSON, media type from body, header and descriptor, shape), each with its own reason.
pub fn parse_manifest(
    body: &[u8],
    content_type: Option<&str>,
    expected: Option<&str>,
    what: &str,
) -> Result<Manifest, ManifestError> {
    let invalid = |problem: Problem| ManifestError::Invalid {
        what: what.to_string(),
        problem,
    };
    let ct = content_type.map(bare_media_type).filter(|c| !c.is_empty());
    let schema1 = || ManifestError::Schema1 {
        what: what.to_string(),
        by: "",
    };
    if ct.as_deref().is_some_and(is_schema1) {
        return Err(schema1());
    }
    let StrictJson { value: v, escaped } =
        parse_json_strict(body).map_err(|e| invalid(Problem::Json(e.to_string())))?;
    go_manifest_keys(&v).map_err(|e| invalid(e.into()))?;
    let obj = v.as_object().ok_or_else(|| invalid(Problem::NotAnObject))?;
    // containerd refuses any manifest or index with an `fsLayers` key, whatever its value (`null`,
    // `[]`) and in any spelling Go folds to it (`images.validateMediaType`: schema 1 not supported).
    if obj.keys().any(|k| gojson::go_fold(k) == "fslayers") {
        return Err(ManifestError::Schema1 {
            what: what.to_string(),
            by: " to containerd (it has an `fsLayers` key, which containerd refuses as schema 1 whatever the rest says)",
        });
    }
    let schema_version = obj.get("schemaVersion").and_then(|s| s.as_u64());
    let body_type = match obj.get("mediaType") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(Problem::MediaTypeNotAString)),
    };
    if schema_version == Some(1) || body_type.as_deref().is_some_and(is_schema1) {
        return Err(schema1());
    }
    if schema_version != Some(2) {
        return Err(invalid(Problem::SchemaVersion(
            obj.get("schemaVersion")
                .map(|s| s.to_string())
                .unwrap_or_else(|| "missing".into()),
        )));
    }
    let shape_index = obj.contains_key("manifests");
    let shape_image = obj.contains_key("config") || obj.contains_key("layers");
    if shape_index && shape_image {
        // containerd's `validateMediaType`: any value of the other kind's key (its length as raw
        // JSON is not 0, `null` included) fails the pull.
        return Err(ManifestError::MediaTypeMismatch {
            what: what.to_string(),
            mismatch: Mismatch::BothShapes,
        });
    }
    if !shape_index && !shape_image {
        return Err(invalid(Problem::Shape));
    }
    let go_type = if shape_index {
        gojson::INDEX
    } else {
        gojson::MANIFEST
    };
    gojson::check(&v, go_type, &escaped).map_err(|e| invalid(e.into()))?;
    let known = |t: &str| is_index_type(t) || is_image_type(t);
    let mismatch = |mismatch: Mismatch| ManifestError::MediaTypeMismatch {
        what: what.to_string(),
        mismatch,
    };
    if let Some(bt) = &body_type {
        if !known(bt) {
            return Err(ManifestError::UnsupportedMediaType {
                what: what.to_string(),
                media_type: bt.clone(),
            });
        }
        if is_index_type(bt) != shape_index {
            return Err(mismatch(Mismatch::BodyShape {
                media_type: bt.clone(),
                index: shape_index,
            }));
        }
    }
    // A generic or missing Content-Type says nothing; any specific one must agree.
    let ct_specific = ct
        .as_deref()
        .filter(|c| *c != "application/json" && *c != "application/octet-stream");
    if let Some(c) = ct_specific {
        if !known(c) {
            return Err(mismatch(Mismatch::HeaderUnknown(c.to_string())));
        }
        if let Some(bt) = &body_type {
            if bt != c {
                return Err(mismatch(Mismatch::HeaderBody {
                    header: c.to_string(),
                    body: bt.clone(),
                }));
            }
        }
        if is_index_type(c) != shape_index {
            return Err(mismatch(Mismatch::HeaderShape {
                header: c.to_string(),
                index: shape_index,
            }));
        }
    }
    let effective = body_type
        .clone()
        .or_else(|| ct_specific.map(str::to_string))
        .or_else(|| expected.map(str::to_string))
        .unwrap_or_else(|| {
            if shape_index {
                OCI_INDEX.into()
            } else {
                OCI_MANIFEST.into()
            }
        });
    if let Some(e) = expected.filter(|e| !e.is_empty()) {
        if e != effective {
            return Err(mismatch(Mismatch::Descriptor {
                expected: e.to_string(),
                served: effective,
            }));
        }
    }
    if shape_index {
        #[derive(Deserialize)]
        // `null` lists are Go's empty ones.
        struct RawIndex {
            manifests: Option<Vec<RawDescriptor>>,
        }
        let raw: RawIndex =
            serde_json::from_value(v).map_err(|e| invalid(Problem::Index(e.to_string())))?;
        let entries = raw.manifests.unwrap_or_default();
        if entries.len() > MAX_INDEX_ENTRIES {
            return Err(ManifestError::TooManyEntries {
                what: what.to_string(),
                count: entries.len(),
            });
        }
        let manifests = descriptors(entries, "entry").map_err(invalid)?;
        Ok(Manifest::Index {
            media_type: effective,
            manifests,
        })
    } else {
        #[derive(Deserialize)]
        struct RawImage {
            config: RawDescriptor,
            #[serde(default)]
            layers: Option<Vec<RawDescriptor>>,
        }
        let raw: RawImage =
            serde_json::from_value(v).map_err(|e| invalid(Problem::Image(e.to_string())))?;
        let config = Descriptor::from_raw(raw.config, "config").map_err(invalid)?;
        let layers = descriptors(raw.layers.unwrap_or_default(), "layer").map_err(invalid)?;
        Ok(Manifest::Image {
            media_type: effective,
            config,
            layers,
        })
    }
}

/// A list of descriptors, each checked (`what 0`, `what 1`... in messages).
fn descriptors(raw: Vec<RawDescriptor>, what: &str) -> Result<Vec<Descriptor>, Problem> {
    raw.into_iter()
        .enumerate()
        .map(|(i, d)| Descriptor::from_raw(d, &format!("{what} {i}")))
        .collect()
}

/// JSON parsed strictly, with the strings that were written with escapes.
struct StrictJson {
    value: serde_json::Value,
    /// Strings whose JSON text held an escape (`\u005a`, `\n`): Go's `time.Time` parses the raw
    /// bytes of its string without unescaping them.
    escaped: HashSet<String>,
}

/// [`parse_json_strict`]'s value: JSON without duplicate keys (for other documents that tools read
/// with different JSON parsers, such as task definitions).
pub(crate) fn strict_json_value(body: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    parse_json_strict(body).map(|s| s.value)
}

/// Parses JSON like `serde_json::from_slice::<Value>`, but refuses duplicate object keys: parsers
/// disagree on which duplicate wins, so such a manifest could mean one thing to shipcheck and another
/// to the runtime that pulls it. serde_json's nesting limit (128) applies.
fn parse_json_strict(body: &[u8]) -> Result<StrictJson, serde_json::Error> {
    use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;
    use std::cell::RefCell;
    #[derive(Clone, Copy)]
    struct Strict<'a>(&'a RefCell<HashSet<String>>);
    impl<'de> DeserializeSeed<'de> for Strict<'_> {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Strict<'_> {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        // serde_json borrows a string from the input when it holds no escape, and hands over an
        // unescaped copy otherwise.
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            self.0.borrow_mut().insert(v.to_string());
            Ok(Value::String(v.to_string()))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = a.next_element_seed(self)? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(k) = a.next_key::<String>()? {
                if out.contains_key(&k) {
                    let shown: String = k.chars().take(64).collect();
                    return Err(A::Error::custom(format!("duplicate key `{shown}`")));
                }
                let v = a.next_value_seed(self)?;
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
    }
    let escaped = RefCell::new(HashSet::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Strict(&escaped).deserialize(&mut de)?;
    de.end()?;
    Ok(StrictJson {
        value,
        escaped: escaped.into_inner(),
    })
}

/// What shipcheck reads from an image configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The platform it declares.
    pub platform: Platform,
    /// Its `rootfs.diff_ids`, the sha256 of each layer uncompressed (the runtimes refuse to unpack
    /// an image whose manifest has another number of layers, or whose layer unpacks to another
    /// digest), or why the runtime cannot unpack the image at all.
    /// Only the unpacking needs these: a runtime reading the config for its platform alone (an
    /// entry without one) does not look at them.
    pub diff_ids: Result<Vec<Digest>, RootFsError>,
}

/// An image config's `rootfs`, as written. Its `type` is not checked: neither containerd nor Docker
/// reads it on pull (the OCI spec's `layers` is all any builder writes).
#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Option<Vec<Option<String>>>,
}

/// Parses an image configuration: strict JSON, types as the runtimes' Go decoders read them, the
/// platform, and a `rootfs` whose `diff_ids` are sha256 digests (the runtimes compare
/// each with the sha256 of the layer they unpack; Docker refuses a config without `rootfs`).
pub fn parse_config(body: &[u8]) -> Result<ImageConfig, ConfigError> {
    #[derive(Deserialize)]
    struct Cfg {
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        os: String,
        #[serde(default)]
        variant: Option<String>,
        #[serde(rename = "os.version", default)]
        os_version: Option<String>,
        #[serde(default)]
        rootfs: Option<RootFs>,
    }
    // Strict like manifests: duplicate keys and nesting past serde_json's limit are refused, also in
    // fields shipcheck ignores (a runtime may not ignore them).
    let StrictJson { value: v, escaped } =
        parse_json_strict(body).map_err(|e| ConfigError::NotAConfig(e.to_string()))?;
    if let Some(obj) = v.as_object() {
        go_struct_keys(obj).map_err(|e| ConfigError::NotAConfig(e.to_string()))?;
        // `rootfs` is a Go struct too: `DIFF_IDS` or `diff_idſ` after `diff_ids` is the list the
        // runtime unpacks against (Go folds keys and takes the last), not the one shipcheck read.
        if let Some(rootfs) = obj.get("rootfs").and_then(serde_json::Value::as_object) {
            go_struct_keys(rootfs)
                .map_err(|e| ConfigError::NotAConfig(format!("in `rootfs`: {e}")))?;
        }
    }
    gojson::check(&v, gojson::IMAGE_CONFIG, &escaped)?;
    let c: Cfg = serde_json::from_value(v).map_err(|e| ConfigError::NotAConfig(e.to_string()))?;
    if c.os.is_empty() || c.architecture.is_empty() {
        return Err(ConfigError::NoPlatform);
    }
    if let Some(v) = c.os_version.as_deref().filter(|v| !valid_platform_token(v)) {
        return Err(PlatformError::NotAToken {
            field: "os.version",
            value: v.to_string(),
        }
        .into());
    }
    let platform = Platform::from_fields(&c.os, &c.architecture, c.variant.as_deref())?
        .with_os_version(c.os_version.as_deref());
    Ok(ImageConfig {
        platform,
        diff_ids: c.rootfs.ok_or(RootFsError::NoRootFs).and_then(diff_ids),
    })
}

fn diff_ids(rootfs: RootFs) -> Result<Vec<Digest>, RootFsError> {
    let diff_ids = rootfs.diff_ids.unwrap_or_default();
    let mut out = Vec::with_capacity(diff_ids.len());
    for (i, d) in diff_ids.iter().enumerate() {
        let d = d.as_deref().unwrap_or_default();
        match Digest::parse(d) {
            Ok(d) if d.algo == super::Algo::Sha256 => out.push(d),
            _ => {
                return Err(RootFsError::DiffId {
                    index: i,
                    value: d.chars().take(80).collect(),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> String {
        format!("sha256:{}", hex::encode([n; 32]))
    }

    #[test]
    fn manifests_shape_media_type_and_header_must_agree() {
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":7,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#,
            d(1)
        );
        let m = parse_manifest(index.as_bytes(), Some(OCI_INDEX), None, "x").unwrap();
        match m {
            Manifest::Index { manifests, .. } => {
                assert_eq!(manifests.len(), 1);
                assert_eq!(manifests[0].size, 7);
                assert_eq!(
                    manifests[0].platform.as_ref().unwrap().to_string(),
                    "linux/arm64/v8"
                );
            }
            _ => panic!("not an index"),
        }
        let code = |b: &str, ct: Option<&str>, exp: Option<&str>| {
            parse_manifest(b.as_bytes(), ct, exp, "x")
                .unwrap_err()
                .code()
        };
        assert_eq!(
            code(&index, Some(DOCKER_MANIFEST), None),
            Code::MediaTypeMismatch
        );
        assert_eq!(
            code(&index, Some(DOCKER_LIST), None),
            Code::MediaTypeMismatch
        );
        assert_eq!(
            code(&index, Some("text/html"), None),
            Code::MediaTypeMismatch
        );
        assert_eq!(
            code(&index, Some(OCI_INDEX), Some(OCI_MANIFEST)),
            Code::MediaTypeMismatch
        );
        // mediaType is optional: the header and the shape decide.
        let image = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[]}}"#,
            d(2)
        );
        let m = parse_manifest(image.as_bytes(), Some(OCI_MANIFEST), None, "x").unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
        let m = parse_manifest(image.as_bytes(), Some("application/json"), None, "x").unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
        assert_eq!(code(&image, Some(OCI_INDEX), None), Code::MediaTypeMismatch);
        let wrong_body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","config":{{"digest":"{}","size":2}}}}"#,
            d(2)
        );
        assert_eq!(code(&wrong_body, None, None), Code::MediaTypeMismatch);
        let schema1 = r#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#;
        assert_eq!(code(schema1, None, None), Code::UnsupportedMediaType);
        assert_eq!(
            code("{}", Some(DOCKER_SCHEMA1_SIGNED), None),
            Code::UnsupportedMediaType
        );
        let artifact = r#"{"schemaVersion":2,"mediaType":"application/vnd.cncf.helm.config.v1+json","layers":[]}"#;
        assert_eq!(code(artifact, None, None), Code::UnsupportedMediaType);
        assert_eq!(code("not json", None, None), Code::InvalidManifest);
        assert_eq!(
            code(r#"{"schemaVersion":2}"#, None, None),
            Code::InvalidManifest
        );
        let bad_digest = r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:xyz","size":1}]}"#;
        assert_eq!(code(bad_digest, None, None), Code::InvalidManifest);
        let neg = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{}","size":-1}}]}}"#,
            d(1)
        );
        assert_eq!(code(&neg, None, None), Code::InvalidManifest);
    }

    #[test]
    fn keys_go_reads_differently_are_refused() {
        let d1 = d(1);
        let idx = |entry: &str| {
            format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{entry}]}}"#)
        };
        let ok = format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{d1}","size":7,"platform":{{"os":"linux","architecture":"amd64"}},"annotations":{{"Author":"a","author":"b"}}}}"#
        );
        assert!(parse_manifest(idx(&ok).as_bytes(), None, None, "x").is_ok());
        for bad in [
            ok.replace(
                r#""architecture":"amd64""#,
                r#""architecture":"amd64","Architecture":"arm64""#,
            ),
            ok.replace(r#""size":7"#, r#""size":7,"Digest":"x""#),
            ok.replace("\"digest\"", "\"dige\u{17f}t\""),
            ok.replace("\"platform\"", "\"Platform\""),
        ] {
            let e = parse_manifest(idx(&bad).as_bytes(), None, None, "x").unwrap_err();
            assert_eq!(e.code(), Code::InvalidManifest, "{bad}");
        }
        let twice = format!(r#"{{"schemaVersion":2,"manifests":[],"Manifests":[{ok}]}}"#);
        assert!(parse_manifest(twice.as_bytes(), None, None, "x").is_err());
        assert!(parse_config(
            br#"{"architecture":"amd64","os":"linux","Architecture":"arm64","rootfs":{"type":"layers"}}"#
        )
        .is_err());
        // Inside `rootfs` too (adversarial pass 30).
        assert!(parse_config(
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[],"DIFF_IDS":null}}"#
        )
        .is_err());
        assert!(parse_config(
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","Diff_Ids":[]}}"#
        )
        .is_err());
        assert!(parse_config(
            br#"{"architecture":"amd64","os":"linux","config":{"Labels":{"Author":"x"},"Env":[]},"rootfs":{"type":"layers"}}"#
        )
        .is_ok());
    }

    #[test]
    fn parse_config_reads_os_arch_variant() {
        let p =
            parse_config(br#"{"os":"linux","architecture":"arm","variant":"v7","rootfs":{"type":"layers","diff_ids":[]}}"#)
                .unwrap();
        assert_eq!(p.platform.to_string(), "linux/arm/v7");
        assert_eq!(p.diff_ids, Ok(vec![]));
        assert!(parse_config(br#"{"os":"linux"}"#).is_err());
        assert!(parse_config(b"[]").is_err());
    }
}
