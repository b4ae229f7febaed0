//! `top25.csv`: one row per pick, text cells neutralised against spreadsheet formulas.

use crate::domain::report::RunReport;

/// Prefixes `'` to a text cell that a spreadsheet would read as a formula
/// (`= + - @`, and tab or carriage return, per OWASP's CSV injection advice).
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

pub fn render(r: &RunReport) -> String {
    let groups: Vec<&str> = r.picks.first().map(|p| p.grades.keys().collect()).unwrap_or_default();
    let factor_names: Vec<&str> = r.picks.first().map(|p| p.factors.keys().collect()).unwrap_or_default();
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["rank", "symbol", "company", "sector", "score", "coverage", "price"].iter().map(|s| s.to_string()).collect();
    header.extend(groups.iter().map(|g| format!("grade_{g}")));
    header.extend(factor_names.iter().map(|f| f.to_string()));
    header.push("reasons".into());
    w.write_record(&header).expect("write to Vec");
    for p in &r.picks {
        let mut row = vec![
            p.rank.to_string(),
            neutralise(p.symbol.as_str()),
            neutralise(&p.name),
            neutralise(&p.sector),
            format!("{:.2}", p.score),
            format!("{:.2}", p.coverage),
            p.price.map(|x| format!("{x:.2}")).unwrap_or_default(),
        ];
        row.extend(groups.iter().map(|g| p.grades.get(g).copied().flatten().map(|g| g.letter().to_string()).unwrap_or_default()));
        row.extend(factor_names.iter().map(|f| num(p.factors.get(f).and_then(|x| x.value))));
        row.push(neutralise(&p.reasons.join("; ")));
        w.write_record(&row).expect("write to Vec");
    }
    String::from_utf8(w.into_inner().expect("flush Vec")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Apple Inc."), "Apple Inc.");
    }
}
