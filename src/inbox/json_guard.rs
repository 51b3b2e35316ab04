//! A nesting-depth check on raw JSON bytes, run before parsing: a body of
//! ten thousand `[` must cost a linear scan and a 400, not a deep recursion.

/// Returns the deepest nesting of arrays and objects in `body`, stopping
/// early (with `max + 1`) once `max` is exceeded. Brackets inside strings
/// do not count.
pub fn depth_exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_real_nesting_only() {
        assert!(!depth_exceeds(br#"{"a":[1,{"b":2}]}"#, 3));
        assert!(depth_exceeds(br#"{"a":[1,{"b":[]}]}"#, 3));
        assert!(!depth_exceeds(br#"{"a":"[[[[[[[[[[{{{{"}"#, 1));
        assert!(!depth_exceeds(br#"{"a":"\"[[[["}"#, 1));
        assert!(depth_exceeds(&[b'['; 100_000], 64));
    }
}
