//! A real browser for tests: Debian's Chromium, headless, driven through
//! chromedriver (W3C WebDriver) with fantoccini. Tests skip when
//! chromedriver is missing, unless `ROSEFED_REQUIRE_BROWSER=1` (CI) makes
//! that a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

pub struct Chromium {
    pub client: Client,
    driver: Child,
}

impl Chromium {
    /// Starts chromedriver on a free port and opens a headless session;
    /// `None` (a skip) when chromedriver is not installed and not required.
    pub async fn start() -> Option<Chromium> {
        let required = std::env::var("ROSEFED_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = federation_tests::free_port();
        let driver = match Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if !required => {
                eprintln!("skipping the browser test: cannot run {driver_bin}: {e} (install Debian's chromium-driver)");
                return None;
            }
            Err(e) => panic!("ROSEFED_REQUIRE_BROWSER=1 but {driver_bin} does not run: {e}"),
        };
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1000,1400",
            ]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            let mut builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&url).await {
                Ok(client) => return Some(Chromium { client, driver }),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {url} gave no session: {last}");
    }

    /// Saves a screenshot of the window as `target/screenshots/NAME.png`
    /// for reviewers, and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
