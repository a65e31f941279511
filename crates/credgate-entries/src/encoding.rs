//! Text encodings of CSV exports: UTF-8, or GBK/GB18030 from older
//! government systems. GB18030 is a superset of GBK and GB2312, so one
//! decoder serves all three.

use std::borrow::Cow;

/// The encoding to read a CSV file in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Detect from the first bytes of the file.
    #[default]
    Auto,
    Utf8,
    /// GB18030, which also reads GBK and GB2312.
    Gb18030,
}

impl Encoding {
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "auto" => Some(Encoding::Auto),
            "utf8" => Some(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Some(Encoding::Gb18030),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Auto => "auto",
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
        }
    }

    /// Decides the encoding of a file from its first bytes: UTF-8 when they
    /// are valid UTF-8 (a character cut at the end of the sample is fine),
    /// GB18030 otherwise.
    pub fn detect(sample: &[u8]) -> Encoding {
        match std::str::from_utf8(sample) {
            Ok(_) => Encoding::Utf8,
            Err(e) if e.error_len().is_none() => Encoding::Utf8,
            Err(_) => Encoding::Gb18030,
        }
    }

    /// Decodes one field, or explains why it cannot be.
    pub fn decode(self, bytes: &[u8]) -> Result<Cow<'_, str>, String> {
        match self {
            Encoding::Auto | Encoding::Utf8 => {
                std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
                    format!(
                        "invalid UTF-8 at byte {} of the field (is the file \
                         GBK? read it with encoding gb18030)",
                        e.valid_up_to() + 1
                    )
                })
            }
            Encoding::Gb18030 => encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or_else(|| {
                    "invalid GB18030/GBK byte sequence (is the file \
                     UTF-8? read it with encoding utf-8)"
                        .to_string()
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_decodes() {
        let text = "主体名称,统一社会信用代码";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(Encoding::detect(text.as_bytes()), Encoding::Utf8);
        assert_eq!(Encoding::detect(&gbk), Encoding::Gb18030);
        // A UTF-8 sample cut inside a character is still UTF-8.
        let cut = &text.as_bytes()[..4];
        assert_eq!(Encoding::detect(cut), Encoding::Utf8);
        assert_eq!(Encoding::Gb18030.decode(&gbk).unwrap(), text);
        assert!(Encoding::Utf8.decode(&gbk).is_err());
        assert!(Encoding::Gb18030.decode(&[0x81]).is_err());
    }
}
