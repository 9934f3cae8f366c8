//! Small tar archives (ustar, regular files) for layers the runtime must be able to unpack.
#![allow(dead_code)]

/// A tar archive of `files` (name, contents), with its two end blocks.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend(h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend([0u8; 1024]);
    out
}

/// One ustar header block for `name`, `size` bytes of data and type flag `typ`, checksummed.
pub fn header(name: &str, size: usize, typ: u8) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = typ;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// A header of type `typ` followed by `body`, padded to whole blocks (a file, or a PAX or GNU
/// long-name header when `typ` is `x`, `g` or `L`).
pub fn member(name: &str, typ: u8, body: &[u8]) -> Vec<u8> {
    let mut v = header(name, body.len(), typ);
    v.extend_from_slice(body);
    v.resize(v.len().div_ceil(512) * 512, 0);
    v
}

/// PAX records (`LEN key=value\n`) for `kvs` (`key=value`).
pub fn pax_records(kvs: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for kv in kvs {
        let mut n = kv.len() + 3;
        while format!("{n} {kv}\n").len() != n {
            n += 1;
        }
        out.push_str(&format!("{n} {kv}\n"));
    }
    out.into_bytes()
}
