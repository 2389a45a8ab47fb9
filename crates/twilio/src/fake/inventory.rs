//! The fake's deterministic stock of numbers for sale.
//!
//! Every North American area code (first digit 2–9) holds the same hundred
//! numbers, `NPA-555-0100` to `NPA-555-0199` (the block reserved for fiction,
//! so a test can never ring a real phone). A few well-known area codes carry
//! a real city and region so `InLocality`/`InRegion` filters have something
//! to match; the rest get a stable made-up place. Toll-free numbers live in
//! the toll-free area codes. Pure data: the server removes numbers that are
//! bought.

/// Numbers per area code.
const BLOCK_SIZE: u32 = 100;
/// The first line number of the block (`555-0100`).
const BLOCK_START: u32 = 100;

pub(crate) const TOLL_FREE_AREA_CODES: [&str; 7] =
    ["800", "833", "844", "855", "866", "877", "888"];

/// `(area code, locality, region, postal code, country)`.
const KNOWN_AREAS: [(&str, &str, &str, &str, &str); 14] = [
    ("415", "San Francisco", "CA", "94103", "US"),
    ("213", "Los Angeles", "CA", "90012", "US"),
    ("212", "New York", "NY", "10001", "US"),
    ("617", "Boston", "MA", "02108", "US"),
    ("312", "Chicago", "IL", "60601", "US"),
    ("206", "Seattle", "WA", "98101", "US"),
    ("512", "Austin", "TX", "78701", "US"),
    ("305", "Miami", "FL", "33101", "US"),
    ("303", "Denver", "CO", "80202", "US"),
    ("404", "Atlanta", "GA", "30303", "US"),
    ("503", "Portland", "OR", "97204", "US"),
    ("602", "Phoenix", "AZ", "85004", "US"),
    ("416", "Toronto", "ON", "M5H 2N2", "CA"),
    ("604", "Vancouver", "BC", "V6B 1A1", "CA"),
];

/// Stable stand-ins for area codes without a known city.
const OTHER_PLACES: [(&str, &str, &str); 6] = [
    ("Springfield", "IL", "62701"),
    ("Fairview", "TN", "37062"),
    ("Greenville", "SC", "29601"),
    ("Madison", "WI", "53703"),
    ("Franklin", "OH", "45005"),
    ("Clinton", "IA", "52732"),
];

/// A number for sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offer {
    pub phone_number: String,
    pub friendly_name: String,
    pub area_code: String,
    pub locality: Option<&'static str>,
    pub region: Option<&'static str>,
    pub postal_code: Option<&'static str>,
    pub iso_country: &'static str,
    pub toll_free: bool,
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
}

/// The kinds of number the fake sells; Twilio has no US or Canadian
/// mobile numbers, so neither has the fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stock {
    Local,
    TollFree,
}

/// What a search asks for; `None` leaves a filter out.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pub area_code: Option<String>,
    pub contains: Option<String>,
    pub in_locality: Option<String>,
    pub in_region: Option<String>,
    pub in_postal_code: Option<String>,
    pub sms_enabled: Option<bool>,
    pub voice_enabled: Option<bool>,
}

/// Whether the fake sells numbers of `stock` in `country`.
pub(crate) fn sells(country: &str, stock: Stock) -> bool {
    match stock {
        Stock::Local => country == "US" || country == "CA",
        Stock::TollFree => country == "US",
    }
}

/// The offers matching `query`, in a stable order, before removing the
/// ones already bought.
pub(crate) fn search<'q>(
    country: &'q str,
    stock: Stock,
    query: &'q Query,
) -> impl Iterator<Item = Offer> + 'q {
    let area_codes: Vec<String> = match (&query.area_code, stock) {
        (Some(code), _) => vec![code.clone()],
        (None, Stock::TollFree) => TOLL_FREE_AREA_CODES
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
        (None, Stock::Local) => KNOWN_AREAS
            .iter()
            .filter(|area| area.4 == country)
            .map(|area| area.0.to_owned())
            .collect(),
    };
    let pattern = query.contains.as_deref().map(contains_pattern);
    area_codes
        .into_iter()
        .flat_map(|code| (0..BLOCK_SIZE).filter_map(move |i| offer(&code, BLOCK_START + i)))
        .filter(move |offer| offer.iso_country == country)
        .filter(move |offer| offer.toll_free == (stock == Stock::TollFree))
        .filter(move |offer| matches_query(offer, query, pattern.as_deref()))
}

/// The offer for `phone_number`, if the stock holds it.
pub(crate) fn offer_for(phone_number: &str) -> Option<Offer> {
    let digits = phone_number.strip_prefix("+1")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (area_code, rest) = digits.split_at(3);
    let line = rest.strip_prefix("555")?.parse::<u32>().ok()?;
    if !(BLOCK_START..BLOCK_START + BLOCK_SIZE).contains(&line) {
        return None;
    }
    offer(area_code, line)
}

/// The first offer of an area code (buying by `AreaCode`), if any is left.
pub(crate) fn area_code_offers(area_code: &str) -> impl Iterator<Item = Offer> + '_ {
    (0..BLOCK_SIZE).filter_map(move |i| offer(area_code, BLOCK_START + i))
}

/// `(415) 555-0100`, as Twilio writes friendly names of NANP numbers.
pub(crate) fn friendly_name(phone_number: &str) -> String {
    match phone_number.strip_prefix("+1") {
        Some(d) if d.len() == 10 => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
        _ => phone_number.to_owned(),
    }
}

fn offer(area_code: &str, line: u32) -> Option<Offer> {
    let valid = area_code.len() == 3
        && area_code.bytes().all(|b| b.is_ascii_digit())
        && !area_code.starts_with(['0', '1']);
    if !valid {
        return None;
    }
    let phone_number = format!("+1{area_code}555{line:04}");
    let toll_free = TOLL_FREE_AREA_CODES.contains(&area_code);
    let place = if toll_free {
        None
    } else {
        Some(place_of(area_code))
    };
    // Some numbers lack SMS or MMS, so capability filters have an effect.
    let sms = line % 10 != 9;
    let mms = sms && !toll_free && line.is_multiple_of(2);
    Some(Offer {
        friendly_name: friendly_name(&phone_number),
        phone_number,
        area_code: area_code.to_owned(),
        locality: place.map(|p| p.0),
        region: place.map(|p| p.1),
        postal_code: place.map(|p| p.2),
        iso_country: place.map_or("US", |p| p.3),
        toll_free,
        voice: true,
        sms,
        mms,
    })
}

fn place_of(area_code: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    if let Some(known) = KNOWN_AREAS.iter().find(|area| area.0 == area_code) {
        return (known.1, known.2, known.3, known.4);
    }
    let index = area_code
        .bytes()
        .fold(0usize, |acc, b| acc * 10 + usize::from(b - b'0'))
        % OTHER_PLACES.len();
    let other = OTHER_PLACES[index];
    (other.0, other.1, other.2, "US")
}

fn matches_query(offer: &Offer, query: &Query, pattern: Option<&[Option<u8>]>) -> bool {
    let same = |wanted: &Option<String>, actual: Option<&str>| match wanted {
        None => true,
        Some(wanted) => actual.is_some_and(|actual| actual.eq_ignore_ascii_case(wanted)),
    };
    let capable = |wanted: Option<bool>, has: bool| wanted != Some(true) || has;
    same(&query.in_locality, offer.locality)
        && same(&query.in_region, offer.region)
        && same(&query.in_postal_code, offer.postal_code)
        && capable(query.sms_enabled, offer.sms)
        && capable(query.voice_enabled, offer.voice)
        && pattern.is_none_or(|pattern| digits_contain(&offer.phone_number, pattern))
}

/// Twilio's `Contains`: digits, keypad letters, `*` for any one digit.
fn contains_pattern(raw: &str) -> Vec<Option<u8>> {
    raw.bytes()
        .filter(|b| *b != b'+')
        .map(|b| match b.to_ascii_uppercase() {
            b'*' => None,
            digit @ b'0'..=b'9' => Some(digit),
            letter => Some(keypad_digit(letter)),
        })
        .collect()
}

fn keypad_digit(letter: u8) -> u8 {
    match letter {
        b'A'..=b'C' => b'2',
        b'D'..=b'F' => b'3',
        b'G'..=b'I' => b'4',
        b'J'..=b'L' => b'5',
        b'M'..=b'O' => b'6',
        b'P'..=b'S' => b'7',
        b'T'..=b'V' => b'8',
        b'W'..=b'Z' => b'9',
        // Anything else can never match a digit.
        _ => b'x',
    }
}

fn digits_contain(phone_number: &str, pattern: &[Option<u8>]) -> bool {
    let digits = phone_number.trim_start_matches('+').as_bytes();
    pattern.is_empty()
        || digits.windows(pattern.len()).any(|window| {
            window
                .iter()
                .zip(pattern)
                .all(|(digit, wanted)| wanted.is_none_or(|w| w == *digit))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(query: Query) -> Vec<Offer> {
        search("US", Stock::Local, &query).collect()
    }

    #[test]
    fn any_area_code_offers_a_hundred_fictional_numbers() {
        let offers = local(Query {
            area_code: Some("707".into()),
            ..Query::default()
        });
        assert_eq!(offers.len(), 100);
        assert_eq!(offers[0].phone_number, "+17075550100");
        assert_eq!(offers[99].phone_number, "+17075550199");
        assert_eq!(offers[0].friendly_name, "(707) 555-0100");
        assert!(
            offers
                .iter()
                .all(|o| o.locality.is_some() && o.region.is_some())
        );
    }

    #[test]
    fn a_known_area_code_is_in_its_city() {
        let offer = offer_for("+14155550142").expect("in stock");
        assert_eq!(offer.locality, Some("San Francisco"));
        assert_eq!(offer.region, Some("CA"));
        assert_eq!(offer.iso_country, "US");
    }

    #[test]
    fn the_stock_is_the_same_every_time() {
        let query = Query {
            area_code: Some("919".into()),
            ..Query::default()
        };
        assert_eq!(local(query.clone()), local(query));
    }

    #[test]
    fn contains_matches_digits_wildcards_and_keypad_letters() {
        let by = |pattern: &str| {
            local(Query {
                area_code: Some("415".into()),
                contains: Some(pattern.into()),
                ..Query::default()
            })
            .into_iter()
            .map(|o| o.phone_number)
            .collect::<Vec<_>>()
        };
        assert_eq!(by("0142"), vec!["+14155550142"]);
        assert_eq!(by("01*7").len(), 10);
        // J, K and L are 5 on a keypad: "JKL" is "555".
        assert_eq!(by("JKL").len(), 100);
        assert!(by("9999").is_empty());
    }

    #[test]
    fn region_and_locality_filters_pick_the_matching_cities() {
        let in_california = local(Query {
            in_region: Some("ca".into()),
            ..Query::default()
        });
        assert_eq!(in_california.len(), 200);
        assert!(in_california.iter().all(|o| o.region == Some("CA")));
        let in_boston = local(Query {
            in_locality: Some("Boston".into()),
            ..Query::default()
        });
        assert!(in_boston.iter().all(|o| o.area_code == "617"));
        assert_eq!(in_boston.len(), 100);
    }

    #[test]
    fn capability_filters_leave_out_numbers_without_sms() {
        let with_sms = local(Query {
            area_code: Some("415".into()),
            sms_enabled: Some(true),
            ..Query::default()
        });
        assert_eq!(with_sms.len(), 90);
        assert!(with_sms.iter().all(|o| o.sms));
    }

    #[test]
    fn toll_free_numbers_have_no_place() {
        let offers: Vec<Offer> = search("US", Stock::TollFree, &Query::default()).collect();
        assert_eq!(offers.len(), 700);
        assert!(offers.iter().all(|o| o.toll_free && o.locality.is_none()));
    }

    #[test]
    fn canadian_area_codes_are_sold_in_canada_only() {
        let canada: Vec<Offer> = search("CA", Stock::Local, &Query::default()).collect();
        assert_eq!(canada.len(), 200);
        assert!(
            local(Query {
                area_code: Some("416".into()),
                ..Query::default()
            })
            .is_empty()
        );
    }

    #[test]
    fn every_number_a_search_offers_can_be_bought_by_its_number() {
        for (country, stock) in [
            ("US", Stock::Local),
            ("US", Stock::TollFree),
            ("CA", Stock::Local),
        ] {
            for offer in search(country, stock, &Query::default()) {
                assert_eq!(offer_for(&offer.phone_number).as_ref(), Some(&offer));
            }
        }
    }

    #[test]
    fn numbers_outside_the_fictional_block_are_not_in_stock() {
        assert!(offer_for("+14155550200").is_none());
        assert!(offer_for("+14155551234").is_none());
        assert!(offer_for("+10155550100").is_none());
        assert!(offer_for("4155550100").is_none());
        assert!(offer_for("+18005550100").is_some_and(|o| o.toll_free));
    }
}
