//! Numbers as the book prints them.

/// An integer with thousands separators: `290400` -> `"290,400"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A positive number in scientific form for prose: `45_000_000_000` -> `"4.5 × 10^10"`
/// written as LaTeX (`4.5 \times 10^{10}`), with `digits` significant digits.
pub fn scientific_tex(x: f64, digits: usize) -> String {
    let exponent = x.abs().log10().floor() as i32;
    let mantissa = x / 10f64.powi(exponent);
    format!(
        "{mantissa:.prec$} \\times 10^{{{exponent}}}",
        prec = digits.saturating_sub(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(290400), "290,400");
        assert_eq!(thousands(105705600), "105,705,600");
    }

    #[test]
    fn scientific_keeps_the_exponent() {
        assert_eq!(scientific_tex(105_705_600.0, 2), "1.1 \\times 10^{8}");
        assert_eq!(scientific_tex(34_944.0, 3), "3.49 \\times 10^{4}");
    }
}
