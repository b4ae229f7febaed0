//! Peer groups: the GICS sector a stock is ranked in, and where it came from. A symbol in
//! the universe file takes the file's GICS sector; one outside it takes a GICS sector mapped
//! from Alpha Vantage's SIC-style `Industry` (then `Sector`) by the documented tables below;
//! a stock neither gives is ranked against the whole universe. No peer group is "Unknown".

use serde::{Deserialize, Serialize};

/// The eleven GICS sectors, as the index provider spells them.
pub const GICS_SECTORS: [&str; 11] = [
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
];

/// SIC industry words (as Alpha Vantage writes `Industry`, upper case) to GICS sectors. The
/// first entry whose words appear in the industry wins, so the more specific entries come
/// first ("TELEPHONE & TELEGRAPH APPARATUS" is equipment, "TELEPHONE COMMUNICATIONS" a
/// telecom). SIC and GICS do not line up exactly; this is the nearest GICS sector.
pub const INDUSTRY_TO_GICS: &[(&str, &str)] = &[
    ("REAL ESTATE INVESTMENT TRUST", "Real Estate"),
    ("TELEPHONE & TELEGRAPH APPARATUS", "Information Technology"),
    ("COMMUNICATIONS EQUIPMENT", "Information Technology"),
    ("PHARMACEUTICAL", "Health Care"),
    ("BIOLOGICAL", "Health Care"),
    ("IN VITRO", "Health Care"),
    ("DIAGNOSTIC", "Health Care"),
    ("MEDICAL", "Health Care"),
    ("MEDICINE", "Health Care"),
    ("SURGICAL", "Health Care"),
    ("HOSPITAL", "Health Care"),
    ("HEALTH", "Health Care"),
    ("DENTAL", "Health Care"),
    ("OPHTHALMIC", "Health Care"),
    ("NURSING", "Health Care"),
    ("BANK", "Financials"),
    ("SAVINGS INSTITUTION", "Financials"),
    ("INSURANCE", "Financials"),
    ("SECURITY BROKERS", "Financials"),
    ("SECURITY & COMMODITY", "Financials"),
    ("INVESTMENT ADVICE", "Financials"),
    ("FINANCE", "Financials"),
    ("CREDIT", "Financials"),
    ("LOAN BROKERS", "Financials"),
    ("REAL ESTATE", "Real Estate"),
    ("LESSORS OF REAL PROPERTY", "Real Estate"),
    ("ELECTRIC SERVICES", "Utilities"),
    ("ELECTRIC & OTHER SERVICES", "Utilities"),
    ("GAS & OTHER SERVICES", "Utilities"),
    ("NATURAL GAS DISTRIBUTION", "Utilities"),
    ("WATER SUPPLY", "Utilities"),
    ("COGENERATION", "Utilities"),
    ("CRUDE PETROLEUM", "Energy"),
    ("PETROLEUM REFINING", "Energy"),
    ("OIL & GAS", "Energy"),
    ("OIL ROYALTY", "Energy"),
    ("DRILLING OIL", "Energy"),
    ("PIPE LINES", "Energy"),
    ("NATURAL GAS TRANSMISSION", "Energy"),
    ("COAL", "Energy"),
    ("TELEPHONE COMMUNICATIONS", "Communication Services"),
    ("RADIOTELEPHONE", "Communication Services"),
    ("CABLE & OTHER PAY TELEVISION", "Communication Services"),
    ("BROADCASTING", "Communication Services"),
    ("MOTION PICTURE", "Communication Services"),
    ("NEWSPAPERS", "Communication Services"),
    ("PERIODICALS", "Communication Services"),
    ("ADVERTISING", "Communication Services"),
    ("PREPACKAGED SOFTWARE", "Information Technology"),
    ("COMPUTER", "Information Technology"),
    ("SEMICONDUCTOR", "Information Technology"),
    ("ELECTRONIC", "Information Technology"),
    ("PRINTED CIRCUIT", "Information Technology"),
    ("OFFICE MACHINES", "Information Technology"),
    ("PERFUMES", "Consumer Staples"),
    ("COSMETICS", "Consumer Staples"),
    ("FOOD", "Consumer Staples"),
    ("GROCER", "Consumer Staples"),
    ("BEVERAGES", "Consumer Staples"),
    ("BOTTLED", "Consumer Staples"),
    ("MALT", "Consumer Staples"),
    ("DISTILLED", "Consumer Staples"),
    ("CIGARETTES", "Consumer Staples"),
    ("TOBACCO", "Consumer Staples"),
    ("SOAP", "Consumer Staples"),
    ("DRUG STORES", "Consumer Staples"),
    ("POULTRY", "Consumer Staples"),
    ("MEAT PACKING", "Consumer Staples"),
    ("DAIRY", "Consumer Staples"),
    ("RETAIL-", "Consumer Discretionary"),
    ("HOTELS", "Consumer Discretionary"),
    ("EATING", "Consumer Discretionary"),
    ("RESTAURANT", "Consumer Discretionary"),
    ("MOTOR VEHICLE", "Consumer Discretionary"),
    ("AUTO DEALERS", "Consumer Discretionary"),
    ("APPAREL", "Consumer Discretionary"),
    ("FOOTWEAR", "Consumer Discretionary"),
    ("FURNITURE", "Consumer Discretionary"),
    ("OPERATIVE BUILDERS", "Consumer Discretionary"),
    ("TOYS", "Consumer Discretionary"),
    ("SPORTING", "Consumer Discretionary"),
    ("AMUSEMENT", "Consumer Discretionary"),
    ("EDUCATIONAL SERVICES", "Consumer Discretionary"),
    ("JEWELRY", "Consumer Discretionary"),
    ("AIRCRAFT", "Industrials"),
    ("GUIDED MISSILES", "Industrials"),
    ("RAILROAD", "Industrials"),
    ("TRUCKING", "Industrials"),
    ("AIR COURIER", "Industrials"),
    ("AIR TRANSPORTATION", "Industrials"),
    ("WASTE", "Industrials"),
    ("REFUSE", "Industrials"),
    ("MACHINERY", "Industrials"),
    ("ENGINEERING SERVICES", "Industrials"),
    ("HEAVY CONSTRUCTION", "Industrials"),
    ("ELECTRICAL INDUSTRIAL APPARATUS", "Industrials"),
    ("SHIP", "Industrials"),
    ("ARRANGEMENT OF TRANSPORTATION", "Industrials"),
    ("HELP SUPPLY", "Industrials"),
    ("MANAGEMENT CONSULTING", "Industrials"),
    ("CHEMICAL", "Materials"),
    ("PLASTIC MATERIALS", "Materials"),
    ("STEEL", "Materials"),
    ("METAL MINING", "Materials"),
    ("GOLD", "Materials"),
    ("MINING", "Materials"),
    ("PAPER", "Materials"),
    ("CONTAINERS", "Materials"),
    ("GLASS", "Materials"),
    ("CEMENT", "Materials"),
    ("LUMBER", "Materials"),
    ("FERTILIZERS", "Materials"),
    ("SMELTING", "Materials"),
];

/// Alpha Vantage `Sector` values (SEC review offices) that fall in one GICS sector; the
/// others ("TRADE & SERVICES", "MANUFACTURING", "ENERGY & TRANSPORTATION", "REAL ESTATE &
/// CONSTRUCTION") span several and map nothing.
pub const AV_SECTOR_TO_GICS: &[(&str, &str)] =
    &[("LIFE SCIENCES", "Health Care"), ("FINANCE", "Financials"), ("TECHNOLOGY", "Information Technology")];

/// Where a stock's peer group came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SectorSource {
    /// The GICS sector of the universe file.
    UniverseFile,
    /// Mapped from the reply's `Industry` or `Sector` (which one, as the reply wrote it).
    AlphaVantage { from: String },
    /// Neither gave a sector: every factor is ranked against the whole universe.
    None,
}

/// The sector label of a stock ranked against the whole universe (not a peer group).
pub const NO_SECTOR: &str = "No sector";

impl SectorSource {
    /// "GICS sector from the universe file", "mapped from Alpha Vantage industry ...".
    pub fn describe(&self) -> String {
        match self {
            SectorSource::UniverseFile => "GICS sector from the universe file".into(),
            SectorSource::AlphaVantage { from } => format!("GICS sector mapped from Alpha Vantage {from}"),
            SectorSource::None => "no sector known: ranked against the whole universe".into(),
        }
    }
}

/// The GICS sector for Alpha Vantage's `Industry` / `Sector`, and what it was mapped from.
pub fn gics_from_alpha_vantage(industry: Option<&str>, sector: Option<&str>) -> Option<(&'static str, String)> {
    if let Some(ind) = industry.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()) {
        // The simulator writes the GICS name itself.
        if let Some(g) = GICS_SECTORS.iter().find(|g| g.eq_ignore_ascii_case(&ind)) {
            return Some((g, format!("industry {ind:?}")));
        }
        if let Some((_, g)) = INDUSTRY_TO_GICS.iter().find(|(words, _)| ind.contains(words)) {
            return Some((g, format!("industry {ind:?}")));
        }
    }
    let sec = sector.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty())?;
    AV_SECTOR_TO_GICS.iter().find(|(s, _)| *s == sec).map(|(_, g)| (*g, format!("sector {sec:?}")))
}

/// The peer sector of a stock: the universe file's when it has one, else the mapped one.
pub fn resolve(file_sector: &str, industry: Option<&str>, av_sector: Option<&str>) -> (String, SectorSource) {
    if !file_sector.trim().is_empty() {
        return (file_sector.to_string(), SectorSource::UniverseFile);
    }
    match gics_from_alpha_vantage(industry, av_sector) {
        Some((g, from)) => (g.to_string(), SectorSource::AlphaVantage { from }),
        None => (NO_SECTOR.to_string(), SectorSource::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapping_names_a_gics_sector() {
        for (words, g) in INDUSTRY_TO_GICS.iter().chain(AV_SECTOR_TO_GICS) {
            assert!(GICS_SECTORS.contains(g), "{words} -> {g}");
        }
    }

    #[test]
    fn specific_entries_win_over_general_ones() {
        let g = |i: &str| gics_from_alpha_vantage(Some(i), None).map(|x| x.0);
        assert_eq!(g("TELEPHONE & TELEGRAPH APPARATUS"), Some("Information Technology"));
        assert_eq!(g("TELEPHONE COMMUNICATIONS (NO RADIOTELEPHONE)"), Some("Communication Services"));
        assert_eq!(g("REAL ESTATE INVESTMENT TRUSTS"), Some("Real Estate"));
        assert_eq!(g("RETAIL-GROCERY STORES"), Some("Consumer Staples"));
        assert_eq!(g("RETAIL-SHOE STORES"), Some("Consumer Discretionary"));
        assert_eq!(g("HEALTH CARE"), Some("Health Care"));
        assert_eq!(g("SOMETHING NEW"), None);
        assert_eq!(gics_from_alpha_vantage(Some("SOMETHING NEW"), Some("LIFE SCIENCES")).map(|x| x.0), Some("Health Care"));
        assert_eq!(gics_from_alpha_vantage(None, Some("TRADE & SERVICES")), None);
    }

    #[test]
    fn the_universe_file_wins_and_nothing_is_unknown() {
        assert_eq!(resolve("Utilities", Some("PHARMACEUTICAL PREPARATIONS"), None), ("Utilities".into(), SectorSource::UniverseFile));
        let (s, src) = resolve("", None, Some("MANUFACTURING"));
        assert_eq!((s.as_str(), src), (NO_SECTOR, SectorSource::None));
    }
}
