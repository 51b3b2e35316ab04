//! Reading a hub's Prometheus metrics, to see what a hub did (deliveries by
//! format and outcome, activities received) without looking inside it.

/// A hub's scrape of `url` (`…/metrics`).
pub async fn scrape(url: &str) -> String {
    let response = crate::http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response.text().await.unwrap_or_default()
}

/// The sum of the series of `name` whose labels include every one of
/// `labels` (each written `key="value"`); 0 when there are none (counters
/// start absent).
pub fn sum(scrape: &str, name: &str, labels: &[&str]) -> f64 {
    scrape
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (series, value) = match rest.strip_prefix('{') {
                Some(labelled) => labelled.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            let have: Vec<&str> = series.split(',').collect();
            labels
                .iter()
                .all(|l| have.contains(l))
                .then(|| value.trim().parse::<f64>().ok())?
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::sum;

    #[test]
    fn sums_matching_series_only() {
        let scrape = "rosefed_deliveries_total{format=\"jsonld\",outcome=\"retry\"} 7\n\
                      rosefed_deliveries_total{format=\"sexp\",outcome=\"retry\"} 2\n\
                      rosefed_deliveries_total{format=\"sexp\",outcome=\"retry_x\"} 9\n\
                      rosefed_deliveries_totals{outcome=\"retry\"} 100\n\
                      rosefed_apps 3\n";
        let d = "rosefed_deliveries_total";
        assert_eq!(sum(scrape, d, &["outcome=\"retry\""]), 9.0);
        assert_eq!(
            sum(scrape, d, &["format=\"sexp\"", "outcome=\"retry\""]),
            2.0
        );
        assert_eq!(sum(scrape, d, &["outcome=\"dead\""]), 0.0);
        assert_eq!(sum(scrape, "rosefed_apps", &[]), 3.0);
    }
}
