//! The JSON Canonicalization Scheme (RFC 8785), as pure code (no I/O).
//!
//! FEP-8b32 object-integrity proofs of the `eddsa-jcs-2022` cryptosuite
//! sign a hash of a document's JCS form, not of the bytes that carried it:
//! two peers that hold the same JSON tree must produce the same bytes to
//! hash, whatever whitespace, member order or number spelling the sender
//! used. This module owns that one mapping, tree → canonical bytes, so the
//! proof code (signing and verifying alike) never serializes for hashing
//! any other way.
//!
//! The scheme, in short: no whitespace; object members sorted by their
//! names as UTF-16 code units; strings with only the escapes JSON requires;
//! numbers as ECMAScript's `Number.prototype.toString` prints the IEEE-754
//! double they denote.

use serde_json::{Map, Number, Value};

/// Why a tree has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    /// A number that is not exactly an IEEE-754 double. JCS is defined over
    /// doubles (I-JSON), so such a number would come out as a different
    /// value from the one that was signed.
    #[error("number {0} has no exact IEEE-754 double form, so no JCS form")]
    Number(String),
}

/// The canonical bytes of `value` (RFC 8785).
///
/// Recursion follows the tree's nesting, as serde_json's own serializer
/// does; trees decoded at the edge are already bounded in depth.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = Vec::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), JcsError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(out, members)?,
    }
    Ok(())
}

fn write_object(out: &mut Vec<u8>, members: &Map<String, Value>) -> Result<(), JcsError> {
    // The map's own order cannot be relied on: with serde_json's
    // `preserve_order` (on in this build through a dependency) it is the
    // sender's order, and without it UTF-8 byte order, which differs from
    // UTF-16 order once names hold characters beyond U+FFFF.
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, name);
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

/// RFC 8785 §3.2.2.2: ECMAScript's JSON.stringify rules for strings.
fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Runs that need no escape are copied whole; every byte that needs one
    // is ASCII, so cutting at it never splits a UTF-8 sequence.
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                start = i + 1;
                write_control_escape(out, b);
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `\u00xx`, with the lowercase hex digits the RFC prescribes.
fn write_control_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u00");
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0x0f)]);
}

/// RFC 8785 §3.2.2.3: the double the number denotes, printed as
/// ECMAScript's Number.prototype.toString prints it.
fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), JcsError> {
    let double = to_double(n)?;
    // serde_json holds no NaN or infinity, and to_double makes none; the
    // check keeps ryu-js on its documented path all the same.
    if !double.is_finite() {
        return Err(JcsError::Number(n.to_string()));
    }
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(double).as_bytes());
    Ok(())
}

/// The double a serde_json number denotes, exactly.
///
/// serde_json keeps integers as i64 or u64, which can be beyond a double's
/// 53-bit significand. A peer hashing the same document as doubles (every
/// JavaScript one does) would hash a rounded value; rather than sign or
/// accept something other than what was written, such a number is refused.
/// An integer that a double holds exactly (2^60, say) is accepted, and
/// printed as ECMAScript prints that double.
fn to_double(n: &Number) -> Result<f64, JcsError> {
    let exact = |integer: i128, double: f64| {
        // i128 holds every i64 and u64 and every double they round to
        // (at most 2^64), so the comparison cannot saturate into a false
        // match as a cast back to u64 would at u64::MAX.
        if double as i128 == integer {
            Ok(double)
        } else {
            Err(JcsError::Number(n.to_string()))
        }
    };
    if let Some(i) = n.as_i64() {
        exact(i128::from(i), i as f64)
    } else if let Some(u) = n.as_u64() {
        exact(i128::from(u), u as f64)
    } else {
        // Parsed with `float_roundtrip`, so already the correctly rounded
        // double of the text, as I-JSON parsers produce.
        n.as_f64().ok_or_else(|| JcsError::Number(n.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jcs(value: &Value) -> String {
        String::from_utf8(canonicalize(value).unwrap()).unwrap()
    }

    fn jcs_of_text(text: &str) -> String {
        jcs(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50,
                      2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            jcs_of_text(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let value: Value = serde_json::from_str(input).unwrap();
        let expected = concat!(
            "{",
            "\"\\r\":\"Carriage Return\",",
            "\"1\":\"One\",",
            "\"\u{80}\":\"Control\",",
            "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",",
            "\"\u{20ac}\":\"Euro Sign\",",
            "\"\u{1f600}\":\"Emoji: Grinning Face\",",
            "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"",
            "}"
        );
        assert_eq!(jcs(&value), expected);
    }

    #[test]
    fn utf16_order_differs_from_utf8_order() {
        // U+1F600 is a surrogate pair (0xD83D...) in UTF-16, so it sorts
        // before U+FB33 and U+EBD7; in UTF-8 (0xF0...) it sorts after them.
        let value = json!({"\u{fb33}": 1, "\u{1f600}": 2, "\u{ebd7}": 3, "\u{ffff}": 4});
        assert_eq!(
            jcs(&value),
            "{\"\u{1f600}\":2,\"\u{ebd7}\":3,\"\u{fb33}\":1,\"\u{ffff}\":4}"
        );
    }

    #[test]
    fn members_sorted_at_every_depth_and_arrays_kept_in_order() {
        let value = json!({"b": [3, {"z": 1, "a": 2}, 1], "a": {"y": null, "x": true}, "": 0});
        assert_eq!(
            jcs(&value),
            r#"{"":0,"a":{"x":true,"y":null},"b":[3,{"a":2,"z":1},1]}"#
        );
        // A name that is a prefix of another sorts first.
        assert_eq!(jcs(&json!({"ab": 1, "a": 2})), r#"{"a":2,"ab":1}"#);
    }

    #[test]
    fn empty_containers_and_literals() {
        assert_eq!(jcs(&json!({})), "{}");
        assert_eq!(jcs(&json!([])), "[]");
        assert_eq!(
            jcs(&json!([[], {}, null, true, false, ""])),
            r#"[[],{},null,true,false,""]"#
        );
    }

    #[test]
    fn string_escapes() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        assert_eq!(
            jcs(&Value::String(all_controls)),
            concat!(
                r#"""#,
                r"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007",
                r"\b\t\n\u000b\f\r\u000e\u000f",
                r"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017",
                r"\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f",
                r#"""#
            )
        );
        assert_eq!(jcs(&json!("\"\\")), r#""\"\\""#);
        // Everything else is literal: '/', DEL, C1 controls, U+2028/2029
        // (which ECMAScript's JSON.stringify leaves alone) and astral ones.
        let literal = "/\u{7f}\u{80}\u{9f}\u{2028}\u{2029}\u{fffd}\u{1f600}<>&'";
        assert_eq!(jcs(&json!(literal)), format!("\"{literal}\""));
        // Escapes next to multi-byte characters keep those whole.
        assert_eq!(jcs(&json!("é\né\u{1}é")), "\"é\\né\\u0001é\"");
    }

    fn number_of_bits(bits: u64) -> String {
        let double = f64::from_bits(bits);
        let value = Value::Number(Number::from_f64(double).unwrap());
        jcs(&value)
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        let table: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, expected) in table {
            assert_eq!(number_of_bits(bits), expected, "bits {bits:016x}");
        }
    }

    #[test]
    fn halfway_digits_round_to_even() {
        // Exactly -659605758638228.25: both 17-digit neighbours are as
        // close; ECMAScript (and node) print the even one. Rust's own `{:e}`
        // prints ...228.3, which is why this module does not use it.
        assert_eq!(number_of_bits(14052004083837682850), "-659605758638228.2");
        assert_eq!(jcs_of_text("-659605758638228.25"), "-659605758638228.2");
    }

    #[test]
    fn number_text_forms() {
        // However a number is spelled, the double it denotes decides.
        assert_eq!(
            jcs_of_text("[1.0, 1e0, 10E-1, 0.1e1, -0.0, -0, 100, 1e2, 1E+2, 1e21, 1e20, 123e-20]"),
            "[1,1,1,1,0,0,100,100,100,1e+21,100000000000000000000,1.23e-18]"
        );
        assert_eq!(
            jcs_of_text("[0.1, 0.30000000000000004, 1e-6, 1e-7]"),
            "[0.1,0.30000000000000004,0.000001,1e-7]"
        );
    }

    #[test]
    fn integers_as_doubles() {
        // Exactly representable: printed as the double is.
        assert_eq!(jcs(&json!(9007199254740992u64)), "9007199254740992");
        assert_eq!(jcs(&json!(-9007199254740992i64)), "-9007199254740992");
        assert_eq!(jcs(&json!(1u64 << 60)), "1152921504606847000");
        assert_eq!(jcs(&json!(i64::MIN)), "-9223372036854776000");
        assert_eq!(jcs(&json!(0i64)), "0");
        assert_eq!(
            jcs(&json!(u64::MAX - (1 << 11) + 1)),
            "18446744073709550000"
        );
        // Not representable: refused rather than rounded.
        for text in [
            "9007199254740993",
            "-9007199254740993",
            "18446744073709551615",
            "9223372036854775807",
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                canonicalize(&value),
                Err(JcsError::Number(text.to_string())),
                "{text}"
            );
        }
        // Nested too: the error is not lost on the way up.
        let value: Value = serde_json::from_str(r#"{"a":[1,{"b":9007199254740993}]}"#).unwrap();
        assert!(matches!(canonicalize(&value), Err(JcsError::Number(_))));
    }

    /// ECMAScript's Number::toString (ES2024 §6.1.6.1.20), written out
    /// from the spec independently of ryu-js: the shortest round-trip
    /// digits from Rust's own `{:e}`, the spec's layout, and the spec's tie
    /// rule, which Rust's formatting does not follow (for a double exactly
    /// halfway between two shortest candidates, -659605758638228.25, Rust
    /// rounds the digits up and ECMAScript takes the even one).
    fn ecmascript_reference(double: f64) -> String {
        if double == 0.0 {
            return "0".to_string();
        }
        let sci = format!("{:e}", double.abs());
        let (mantissa, exponent) = sci.split_once('e').unwrap();
        let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let k = digits.len();
        // The double's exact decimal expansion (at most 767 significant
        // digits, so 800 loses none).
        let exact = format!("{:.800e}", double.abs());
        let (exact_mantissa, exact_exponent) = exact.split_once('e').unwrap();
        let exact_digits: String = exact_mantissa.chars().filter(|c| *c != '.').collect();
        let halfway =
            exact_digits[k..].starts_with('5') && exact_digits[k + 1..].bytes().all(|b| b == b'0');
        if halfway && exact_exponent == exponent {
            let truncated = &exact_digits[..k];
            let last = truncated.as_bytes()[k - 1] - b'0';
            if last % 2 == 0 {
                digits = truncated.trim_end_matches('0').to_string();
            }
        }
        let k = digits.len() as i32;
        let n = exponent.parse::<i32>().unwrap() + 1;
        let sign = if double < 0.0 { "-" } else { "" };
        let body = if k <= n && n <= 21 {
            format!("{digits}{}", "0".repeat((n - k) as usize))
        } else if 0 < n && n <= 21 {
            format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
        } else if -6 < n && n <= 0 {
            format!("0.{}{digits}", "0".repeat((-n) as usize))
        } else {
            let e = n - 1;
            let e_sign = if e < 0 { '-' } else { '+' };
            let (first, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            format!("{first}{dot}{rest}e{e_sign}{}", e.abs())
        };
        format!("{sign}{body}")
    }

    /// The published vectors in `tests/vectors/rfc8785/` (its README says
    /// where each comes from).
    fn vectors_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc8785")
    }

    fn read_vector(name: &str) -> String {
        let path = vectors_dir().join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn vector_files_input_to_output() {
        let mut names: Vec<String> = std::fs::read_dir(vectors_dir())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|file| file.strip_suffix(".input.json").map(str::to_string))
            .filter(|name| vectors_dir().join(format!("{name}.output.json")).exists())
            .collect();
        names.sort();
        // A directory that lost its files must not pass as "all matched".
        assert!(names.len() >= 7, "only {names:?}");
        for name in names {
            let input = read_vector(&format!("{name}.input.json"));
            // Compared as bytes: the output files are exact, with no
            // trailing newline.
            let expected =
                std::fs::read(vectors_dir().join(format!("{name}.output.json"))).unwrap();
            let value: Value = serde_json::from_str(&input).unwrap();
            let got = canonicalize(&value).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
                "vector {name}"
            );
        }
    }

    #[test]
    fn vector_file_numbers() {
        let table = read_vector("numbers.txt");
        let mut rows = 0;
        for line in table.lines().filter(|line| !line.trim().is_empty()) {
            let (hex, expected) = line.split_once(' ').unwrap();
            let bits = u64::from_str_radix(hex, 16).unwrap();
            assert_eq!(number_of_bits(bits), expected.trim(), "bits {hex}");
            rows += 1;
        }
        assert!(rows >= 20, "only {rows} rows");
    }

    #[test]
    fn vector_file_sorting_order() {
        let value: Value =
            serde_json::from_str(&read_vector("rfc8785-sorting.input.json")).unwrap();
        let text = String::from_utf8(canonicalize(&value).unwrap()).unwrap();
        // The file lists the members' values (each unique, and quoted as
        // in the canonical text) in the published order.
        let positions: Vec<usize> = read_vector("rfc8785-sorting.expected-order.txt")
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|quoted| {
                text.find(quoted)
                    .unwrap_or_else(|| panic!("{quoted} in {text}"))
            })
            .collect();
        assert_eq!(positions.len(), 7);
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    proptest::proptest! {
        #[test]
        fn doubles_match_the_ecmascript_layout(bits in proptest::prelude::any::<u64>()) {
            let double = f64::from_bits(bits);
            proptest::prop_assume!(double.is_finite());
            let printed = number_of_bits(bits);
            proptest::prop_assert_eq!(&printed, &ecmascript_reference(double));
            // And the text reads back as the same double.
            let back: f64 = printed.parse().unwrap();
            proptest::prop_assert!(back == double);
        }

        // Uniform bits are mostly far from 1; these land where the plain
        // and "0.000…" layouts apply and the exponent form's borders lie.
        #[test]
        fn moderate_doubles_match_the_ecmascript_layout(
            mantissa in proptest::prelude::any::<i64>(),
            scale in -45i32..10,
        ) {
            let double = mantissa as f64 * 10f64.powi(scale);
            proptest::prop_assume!(double.is_finite());
            let printed = number_of_bits(double.to_bits());
            proptest::prop_assert_eq!(&printed, &ecmascript_reference(double));
        }
    }
}
