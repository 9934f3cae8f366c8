//! What kind of file a release file is, from its first bytes: an executable (ELF, Mach-O, PE) and the
//! architecture it is for, or a package (rpm, deb, zip, xar).
//!
//! A detached signature binds the file to the signer, not to a name, version or platform: a mirror
//! or download host can serve any other file the vendor signed with the same key. For catalog tools
//! shipcheck knows which platform and which kind of file it asked for, and refuses a verified file
//! that is recognisably something else (an arm64 executable for linux/amd64, a deb for an rpm). A
//! file of no known format (a script) makes no claim and is not refused.

/// How many leading bytes [`detect`] reads.
pub const HEAD: usize = 4096;

/// A recognised file format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// An executable for `os` (`linux`, `darwin`, `windows`) and these architectures (Go's names);
    /// a universal Mach-O lists several; empty when the format names a machine not known here (no
    /// claim about the architecture).
    Executable {
        /// The format's operating system family (ELF is taken as linux).
        os: &'static str,
        /// The architectures it holds code for.
        archs: Vec<String>,
    },
    /// A package or archive: `rpm`, `deb`, `zip`, `xar` (macOS `.pkg`).
    Package(&'static str),
    /// Nothing shipcheck recognises (a script, a tarball, plain data).
    Unknown,
}

fn u16_at(b: &[u8], at: usize, le: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if le {
        u16::from_le_bytes(s)
    } else {
        u16::from_be_bytes(s)
    })
}

fn u32_at(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

/// Go's name for an ELF machine (with the ELF class and byte order where Go's names depend on
/// them); `None` for a machine not named here, which makes no claim.
fn elf_arch(machine: u16, bits64: bool, le: bool) -> Option<&'static str> {
    Some(match (machine, bits64, le) {
        (3, _, _) => "386",
        (40, _, _) => "arm",
        (62, _, _) => "amd64",
        (183, _, _) => "arm64",
        (21, _, true) => "ppc64le",
        (21, _, false) => "ppc64",
        (22, _, _) => "s390x",
        (243, _, _) => "riscv64",
        (258, _, _) => "loong64",
        (8, true, true) => "mips64le",
        (8, true, false) => "mips64",
        (8, false, true) => "mipsle",
        (8, false, false) => "mips",
        _ => return None,
    })
}

fn macho_arch(cputype: u32) -> Option<&'static str> {
    Some(match cputype {
        7 => "386",
        12 => "arm",
        0x0100_0007 => "amd64",
        0x0100_000c => "arm64",
        _ => return None,
    })
}

fn pe_arch(machine: u16) -> Option<&'static str> {
    Some(match machine {
        0x014c => "386",
        0x01c4 => "arm",
        0x8664 => "amd64",
        0xaa64 => "arm64",
        _ => return None,
    })
}

/// Names as strings (an unknown machine gives none: no claim).
fn names(a: Option<&'static str>) -> Vec<String> {
    a.into_iter().map(String::from).collect()
}

/// The format of a file that starts with `head` (at most [`HEAD`] bytes are looked at).
pub fn detect(head: &[u8]) -> Format {
    let exe = |os, archs| Format::Executable { os, archs };
    if head.starts_with(b"\x7fELF") {
        let le = head.get(5) != Some(&2);
        let bits64 = head.get(4) == Some(&2);
        return match u16_at(head, 18, le) {
            Some(m) => exe("linux", names(elf_arch(m, bits64, le))),
            None => Format::Unknown,
        };
    }
    if head.starts_with(&[0xcf, 0xfa, 0xed, 0xfe]) || head.starts_with(&[0xce, 0xfa, 0xed, 0xfe]) {
        return match u32_at(head, 4, true) {
            Some(c) => exe("darwin", names(macho_arch(c))),
            None => Format::Unknown,
        };
    }
    // Universal Mach-O (big-endian header). Java class files share the magic; their next field
    // (a version number, 45 and up) is far above any real count of architectures.
    if head.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) || head.starts_with(&[0xca, 0xfe, 0xba, 0xbf]) {
        let entry = if head[3] == 0xbe { 20 } else { 32 };
        return match u32_at(head, 4, false) {
            Some(n) if (1..20).contains(&n) => {
                let cpus: Option<Vec<u32>> = (0..n as usize)
                    .map(|i| u32_at(head, 8 + i * entry, false))
                    .collect();
                match cpus {
                    // An unknown CPU type among them: no claim about the architectures.
                    Some(c) => {
                        let known: Vec<String> =
                            c.iter().flat_map(|&c| names(macho_arch(c))).collect();
                        exe(
                            "darwin",
                            if known.len() == c.len() {
                                known
                            } else {
                                Vec::new()
                            },
                        )
                    }
                    None => Format::Unknown,
                }
            }
            _ => Format::Unknown,
        };
    }
    if head.starts_with(b"MZ") {
        let pe = u32_at(head, 0x3c, true).map(|o| o as usize);
        if let Some(o) = pe.filter(|&o| head.get(o..o + 4) == Some(b"PE\0\0")) {
            if let Some(m) = u16_at(head, o + 4, true) {
                return exe("windows", names(pe_arch(m)));
            }
        }
        return Format::Unknown;
    }
    if head.starts_with(&[0xed, 0xab, 0xee, 0xdb]) {
        return Format::Package("rpm");
    }
    if head.starts_with(b"!<arch>\ndebian-binary") {
        return Format::Package("deb");
    }
    if head.starts_with(b"PK\x03\x04") {
        return Format::Package("zip");
    }
    if head.starts_with(b"xar!") {
        return Format::Package("xar");
    }
    Format::Unknown
}

/// The package format a file name promises, by its extension.
fn promised_package(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    [
        (".rpm", "rpm"),
        (".deb", "deb"),
        (".zip", "zip"),
        (".pkg", "xar"),
    ]
    .into_iter()
    .find(|(ext, _)| lower.ends_with(ext))
    .map(|(_, f)| f)
}

/// Whether a verified file that starts with `head` is what a catalog entry asked for: an executable
/// for `platform` (`os/arch[/variant]`), or, for a packaged file, the format its `file_name`
/// promises. `Err` says what the file is instead.
pub fn check(head: &[u8], platform: &str, executable: bool, file_name: &str) -> Result<(), String> {
    let mut parts = platform.split('/');
    let (os, arch) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let found = detect(head);
    if executable {
        let wanted_os = match os {
            "darwin" | "macos" => "darwin",
            "windows" => "windows",
            _ => "linux",
        };
        match &found {
            Format::Executable { os: o, archs }
                if *o == wanted_os && (archs.is_empty() || archs.iter().any(|a| a == arch)) =>
            {
                Ok(())
            }
            Format::Executable { os: o, archs } if archs.is_empty() => Err(format!(
                "the file is a {o} executable, not one for {platform}"
            )),
            Format::Executable { os: o, archs } => Err(format!(
                "the file is a {o} executable for {}, not for {platform}",
                archs.join(" + ")
            )),
            Format::Package(p) => Err(format!(
                "the file is a {p} package, not an executable for {platform}"
            )),
            Format::Unknown => Ok(()),
        }
    } else {
        let Some(promised) = promised_package(file_name) else {
            return Ok(());
        };
        match &found {
            Format::Package(p) if *p == promised => Ok(()),
            Format::Package(p) => Err(format!(
                "the file is a {p} package, but {file_name} is a {promised} package"
            )),
            Format::Executable { os: o, .. } => Err(format!(
                "the file is a {o} executable, but {file_name} is a {promised} package"
            )),
            Format::Unknown => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    #[test]
    fn formats_and_architectures() {
        assert!(check(&elf(62), "linux/amd64", true, "ecs-cli").is_ok());
        let e = check(&elf(183), "linux/amd64", true, "ecs-cli").unwrap_err();
        assert!(e.contains("linux executable for arm64"), "{e}");
        let mut macho = vec![0xcf, 0xfa, 0xed, 0xfe];
        macho.extend(0x0100_000cu32.to_le_bytes());
        assert!(check(&macho, "darwin/arm64", true, "x").is_ok());
        assert!(check(&macho, "darwin/amd64", true, "x").is_err());
        assert!(check(&macho, "linux/arm64", true, "x").is_err());
        // Universal: both architectures.
        let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2];
        for c in [0x0100_0007u32, 0x0100_000c] {
            fat.extend(c.to_be_bytes());
            fat.extend([0u8; 16]);
        }
        assert!(check(&fat, "darwin/amd64", true, "x").is_ok());
        assert!(check(&fat, "darwin/arm64", true, "x").is_ok());
        // A Java class file is not a universal binary.
        assert_eq!(
            detect(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
            Format::Unknown
        );
        let mut pe = vec![0u8; 0x90];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        assert!(check(&pe, "windows/amd64", true, "ecs-cli.exe").is_ok());
        assert!(check(&pe, "linux/amd64", true, "ecs-cli").is_err());
        // Scripts make no claim.
        assert!(check(b"#!/bin/sh\necho hi\n", "linux/amd64", true, "tool").is_ok());
        // Packages by extension.
        let rpm = [0xed, 0xab, 0xee, 0xdb, 3, 0];
        let deb = b"!<arch>\ndebian-binary   ";
        assert!(check(&rpm, "linux/amd64", false, "plugin.rpm").is_ok());
        assert!(check(deb, "linux/amd64", false, "plugin.deb").is_ok());
        let e = check(deb, "linux/amd64", false, "plugin.rpm").unwrap_err();
        assert!(e.contains("deb package"), "{e}");
        assert!(check(&elf(62), "linux/amd64", false, "awscli.zip").is_err());
        assert!(check(b"PK\x03\x04", "linux/amd64", false, "awscli.zip").is_ok());
        assert!(check(deb, "linux/amd64", false, "notes.txt").is_ok());
        // Go's other architectures, and machines not named here (no claim).
        let mut be = elf(0);
        be[5] = 2;
        be[18..20].copy_from_slice(&22u16.to_be_bytes());
        assert!(check(&be, "linux/s390x", true, "x").is_ok());
        assert!(check(&be, "linux/amd64", true, "x").is_err());
        assert!(check(&elf(21), "linux/ppc64le", true, "x").is_ok());
        assert!(check(&elf(243), "linux/riscv64", true, "x").is_ok());
        assert!(check(&elf(9999), "linux/amd64", true, "x").is_ok());
        assert!(check(&elf(9999), "darwin/amd64", true, "x").is_err());
    }
}
