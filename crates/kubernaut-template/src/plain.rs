//! The value of a plain YAML scalar, resolved exactly as serde_yaml_ng 0.10 does
//! (`visit_untagged_scalar` in its `de.rs`), so that the fast path builds the same documents as a
//! parse. A test compares the two on a corpus; re-check it when upgrading serde_yaml_ng.

use std::num::ParseIntError;

use serde_yaml_ng::Value;

/// The value of the plain scalar `scalar`, or `None` where serde_yaml_ng fails (integers that
/// need more than 64 bits).
pub(crate) fn resolve_plain(scalar: &str) -> Option<Value> {
    match scalar {
        "" | "null" | "Null" | "NULL" | "~" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(int) = parse_unsigned_int(scalar, u64::from_str_radix) {
        return Some(Value::Number(int.into()));
    }
    if let Some(int) = parse_negative_int(scalar, i64::from_str_radix) {
        return Some(Value::Number(int.into()));
    }
    if parse_unsigned_int(scalar, u128::from_str_radix).is_some()
        || parse_negative_int(scalar, i128::from_str_radix).is_some()
    {
        return None;
    }
    if !digits_but_not_number(scalar)
        && let Some(float) = parse_f64(scalar)
    {
        return Some(Value::Number(float.into()));
    }
    Some(Value::String(scalar.to_owned()))
}

type FromStrRadix<T> = fn(&str, u32) -> Result<T, ParseIntError>;

fn parse_unsigned_int<T>(scalar: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(int) = from_str_radix(rest, radix) {
                return Some(int);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_negative_int<T>(scalar: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix)
            && let Ok(int) = from_str_radix(&format!("-{rest}"), radix)
        {
            return Some(int);
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(scalar, 10).ok()
}

fn parse_f64(scalar: &str) -> Option<f64> {
    let unpositive = match scalar.strip_prefix('+') {
        Some(unpositive) if unpositive.starts_with(['+', '-']) => return None,
        Some(unpositive) => unpositive,
        None => scalar,
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = scalar {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = scalar {
        return Some(f64::NAN.copysign(1.0));
    }
    unpositive
        .parse::<f64>()
        .ok()
        .filter(|float| float.is_finite())
}

/// Leading zeros followed by digits make a string (YAML 1.2).
fn digits_but_not_number(scalar: &str) -> bool {
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1 && scalar.starts_with('0') && scalar[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_plain_scalars_like_serde_yaml_ng() {
        let mut corpus: Vec<String> = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "no",
            "yes",
            "on",
            "0",
            "-0",
            "+0",
            "7",
            "+7",
            "-7",
            "+-7",
            "-+7",
            "007",
            "-007",
            "+007",
            "0x",
            "0x1F",
            "0X1F",
            "+0x1F",
            "-0x1F",
            "0x+1",
            "0x-1",
            "0o17",
            "-0o17",
            "0o8",
            "0b101",
            "-0b101",
            "0b2",
            "1_000",
            "1__0",
            "0x_1",
            "1e3",
            "1E3",
            "1e-3",
            "1e+3",
            "1e400",
            "-1e400",
            "0e",
            "1.",
            ".5",
            "-.5",
            "5.5.5",
            "1.2.3",
            ".inf",
            "-.inf",
            "+.inf",
            ".Inf",
            ".INF",
            ".NaN",
            ".nan",
            "-.nan",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "infinity",
            "Infinity",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999999999999999999999",
            "٣",
            "1:20",
            "v1",
            "nginx:1.2",
            "3f2a9c1",
            "1e",
            "e1",
            "0.0",
            "-0.0",
            "00",
            "0.1e1",
            "a-b",
            "--1",
            "0x1p3",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for a in ["0", "1", "+", "-", ".", "e", "x", "0x", "a"] {
            for b in ["0", "1", "+", "-", ".", "e", "f", "5"] {
                corpus.push(format!("{a}{b}"));
                corpus.push(format!("{a}{b}{a}"));
            }
        }
        for scalar in corpus {
            let parsed: Result<Value, _> = serde_yaml_ng::from_str(&format!("k: {scalar}"));
            let expected = parsed.ok().map(|parsed| parsed["k"].clone());
            assert_eq!(resolve_plain(&scalar), expected, "{scalar:?}");
        }
    }
}
