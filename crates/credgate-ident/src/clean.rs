/// Cleans user input into the canonical form of an identifier.
///
/// Removes whitespace (including U+3000), `-` and the dash variants people
/// paste from documents, maps full-width digits and letters to ASCII and
/// upper-cases (so a lower-case `x` check character is accepted). Anything
/// else is kept so that validation can name it.
pub fn clean(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        let c = match c {
            // Full-width ASCII block: Ａ-Ｚ, ａ-ｚ, ０-９ and －.
            '\u{FF01}'..='\u{FF5E}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        };
        if c.is_whitespace() || is_dash(c) {
            continue;
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}')
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn cleans_separators_width_and_case() {
        let cases = [
            ("91 110000 600037341L", "91110000600037341L"),
            ("91-110000-600037341l", "91110000600037341L"),
            ("９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),
            ("\u{3000}44011320141005001x\t", "44011320141005001X"),
            ("3604—2619910101—0071", "360426199101010071"),
            ("", ""),
            ("9111000060003IOZSV", "9111000060003IOZSV"),
            ("91110000６０００３７３４１ｌ", "91110000600037341L"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "input {input:?}");
        }
    }
}
