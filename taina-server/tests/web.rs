//! The web app in a real headless Chromium (driven over WebDriver by chromedriver), against a real
//! server, on both databases: setup and sign-in; folders, uploads with progress, preview, delete
//! and restore; a photo's thumbnail appearing in the timeline by itself, an album; two people
//! chatting live with a typing indicator and an unread badge; the offline page through the
//! service worker. Screenshots of every main screen at phone and desktop widths are saved under
//! `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/test.sh` installs them); without them
//! the tests fail and say so.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use taina::backend_tests;
use taina::core::Role;
use taina::testing::{PASSWORD, TestInstance};
use taina_server::testing::TestServer;

/// A chromedriver of this test's own, ended when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(clippy::zombie_processes)] // `Driver`'s `Drop` kills and waits for it.
async fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian: apt-get install chromium chromium-driver; scripts/test.sh does it)");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Driver { child, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// A new browser (its own profile: its own cookies, storage and service worker).
async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                     "--window-size=1280,900"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Waits until a JavaScript expression is truthy in the page.
async fn until(c: &Client, what: &str, expression: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = c
            .execute(&format!("return Boolean({expression});"), vec![])
            .await
            .unwrap_or(Value::Bool(false));
        if v == Value::Bool(true) {
            return;
        }
        if Instant::now() > deadline {
            let text = c
                .execute("return document.body.innerText", vec![])
                .await
                .unwrap_or_default();
            panic!("{what} never happened; the page shows:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Types `value` into the field named `name`, once there is one; found again if the screen
/// re-rendered meanwhile (see [`click`]).
async fn fill(c: &Client, name: &str, value: &str) {
    let css = format!("[name=\"{name}\"]");
    for _ in 0..5 {
        let field = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&css))
            .await
            .unwrap();
        let typed = match field.clear().await {
            Ok(()) => field.send_keys(value).await,
            Err(e) => Err(e),
        };
        match typed {
            Ok(()) => return,
            Err(e) if stale(&e) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("typing into {css}: {e}"),
        }
    }
    panic!("{css} kept going stale");
}

/// Whether the element a command used is gone (the screen re-rendered).
fn stale(e: &fantoccini::error::CmdError) -> bool {
    matches!(e, fantoccini::error::CmdError::Standard(e)
        if e.error == fantoccini::error::ErrorStatus::StaleElementReference)
}

/// Clicks the element `css` finds, once there is one. A screen that re-renders between the find
/// and the click (a live event refreshing a list) leaves a stale element: it is found again, as a
/// person would click again.
async fn click(c: &Client, css: &str) {
    for _ in 0..5 {
        let element = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap();
        match element.click().await {
            Ok(()) => return,
            Err(e) if stale(&e) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
    panic!("{css} kept going stale");
}

/// Clicks the (visible) button or link whose text contains `text`, once there is one. The click
/// happens after the script returns, so a click that opens a prompt does not block the driver.
async fn press(c: &Client, text: &str) {
    let find = format!(
        "[...document.querySelectorAll('button,a')].find(b => b.textContent.includes({text:?}) && b.offsetParent !== null)"
    );
    until(c, &format!("a button {text:?}"), &find).await;
    js(
        c,
        &format!("const b = {find}; setTimeout(() => b.click(), 0); return true;"),
    )
    .await;
}

/// Saves a screenshot of the page at phone and desktop widths.
async fn screenshots(c: &Client, name: &str) {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/screenshots"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (width, height, label) in [(360, 780, "phone"), (1280, 900, "desktop")] {
        c.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).unwrap();
    }
    c.set_window_size(1280, 900).await.unwrap();
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/photos/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::canonicalize(path).unwrap().display().to_string()
}

async fn setup_files_and_photos(t: TestInstance) {
    // Background jobs run, as on a real server: thumbnails appear by themselves.
    let t = t.reconfigure(|c| c.job_workers = 1).await;
    let s = TestServer::start(&t).await;
    let d = driver().await;
    let c = browser(&d).await;
    let first = t.taina.backend().name() == "sqlite";

    // A fresh instance opens on first-run setup.
    c.goto(&s.at("/")).await.unwrap();
    until(&c, "the setup page", "location.pathname === '/setup'").await;
    if first {
        screenshots(&c, "setup").await;
    }
    fill(&c, "community_name", "Vila Tainá").await;
    fill(&c, "display_name", "Ana").await;
    fill(&c, "email", "ana@example.org").await;
    fill(&c, "password", "short").await;
    click(&c, "button[type=submit]").await;
    // The browser refuses a too-short password before the server sees it; a valid one works.
    fill(&c, "password", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    until(
        &c,
        "the home screen",
        "document.body.innerText.includes('Hello, Ana')",
    )
    .await;
    if first {
        screenshots(&c, "home").await;
    }

    // Sign out, then a wrong password gets words, and the right one gets in.
    c.goto(&s.at("/settings")).await.unwrap();
    until(
        &c,
        "settings",
        "document.body.innerText.includes('Sessions')",
    )
    .await;
    // An app password for a device: shown once, works for WebDAV, revoked from the list.
    fill(&c, "name", "Laptop da Ana").await;
    press(&c, "Create app password").await;
    until(
        &c,
        "the new app password",
        "/^[a-z2-9]{5}(-[a-z2-9]{5}){4}$/.test(document.querySelector('input[aria-label=\"New app password\"]')?.value || '')",
    )
    .await;
    let password = js(
        &c,
        "return document.querySelector('input[aria-label=\"New app password\"]').value",
    )
    .await;
    let password = password.as_str().unwrap().to_owned();
    let propfind = || {
        s.client
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                s.at("/dav/"),
            )
            .basic_auth("ana@example.org", Some(&password))
            .header("Depth", "0")
            .send()
    };
    assert_eq!(propfind().await.unwrap().status(), 207);
    until(
        &c,
        "the app password listed",
        "document.body.innerText.includes('Laptop da Ana')",
    )
    .await;
    if first {
        screenshots(&c, "settings").await;
    }
    click(&c, "button[aria-label=\"Revoke Laptop da Ana\"]").await;
    until(
        &c,
        "the app password gone",
        "!document.body.innerText.includes('Laptop da Ana')",
    )
    .await;
    assert_eq!(propfind().await.unwrap().status(), 401);

    // A desktop client's sign-in (Login Flow v2): it opens its link here, Ana allows it, and its
    // poll receives an app password that reaches her files.
    let started: serde_json::Value = s
        .client
        .post(s.at("/index.php/login/v2"))
        .header("User-Agent", "Nextcloud desktop (Ana's laptop)")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let poll = || {
        s.client
            .post(started["poll"]["endpoint"].as_str().unwrap())
            .form(&[("token", started["poll"]["token"].as_str().unwrap())])
            .send()
    };
    assert_eq!(poll().await.unwrap().status(), 404, "not approved yet");
    c.goto(started["login"].as_str().unwrap()).await.unwrap();
    until(
        &c,
        "the device's request",
        "document.body.innerText.includes('Nextcloud desktop')",
    )
    .await;
    press(&c, "Allow").await;
    until(
        &c,
        "the device let in",
        "document.body.innerText.includes('the device is signed in')",
    )
    .await;
    let granted: serde_json::Value = poll().await.unwrap().json().await.unwrap();
    assert_eq!(granted["loginName"], "ana@example.org");
    let device_password = granted["appPassword"].as_str().unwrap().to_owned();
    let device = s
        .client
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            s.at("/dav/"),
        )
        .basic_auth("ana@example.org", Some(&device_password))
        .header("Depth", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(device.status(), 207);
    assert_eq!(poll().await.unwrap().status(), 404, "a flow answers once");
    c.goto(&s.at("/settings")).await.unwrap();
    until(
        &c,
        "the device among app passwords",
        "document.body.innerText.includes('Nextcloud desktop')",
    )
    .await;
    press(&c, "Sign out").await;
    until(&c, "the login page", "location.pathname === '/login'").await;
    if first {
        screenshots(&c, "login").await;
    }
    fill(&c, "email", "ana@example.org").await;
    fill(&c, "password", "not my password").await;
    click(&c, "button[type=submit]").await;
    until(
        &c,
        "an error in words",
        "document.querySelector('.error:not([hidden])')?.innerText.length > 5",
    )
    .await;
    fill(&c, "password", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    until(
        &c,
        "the home screen",
        "document.body.innerText.includes('Hello, Ana')",
    )
    .await;

    // Files: a new folder.
    c.goto(&s.at("/files")).await.unwrap();
    until(
        &c,
        "the file browser",
        "document.body.innerText.includes('New folder')",
    )
    .await;
    press(&c, "New folder").await;
    c.send_alert_text("Documentos").await.unwrap();
    c.accept_alert().await.unwrap();
    until(
        &c,
        "the folder",
        "document.body.innerText.includes('Documentos')",
    )
    .await;

    // An upload shows its progress, then the file; its preview opens.
    js(&c, "window.__progress = 0; setInterval(() => { for (const p of document.querySelectorAll('.progress progress')) window.__progress = Math.max(window.__progress, p.value || 0.001); }, 5); return null;").await;
    let big = t.dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 6 * 1024 * 1024]).unwrap();
    let picker = c.find(Locator::Css("input[type=file]")).await.unwrap();
    picker
        .send_keys(&format!("{}\n{}", fixture("jolla.jpg"), big.display()))
        .await
        .unwrap();
    until(&c, "both files listed", "document.body.innerText.includes('jolla.jpg') && document.body.innerText.includes('big.bin')").await;
    let progress = js(&c, "return window.__progress").await;
    assert!(progress.as_f64().unwrap() > 0.0, "a progress bar was shown");
    if first {
        screenshots(&c, "files").await;
    }
    press(&c, "jolla.jpg").await;
    until(
        &c,
        "the preview",
        "document.querySelector('dialog img')?.naturalWidth > 0",
    )
    .await;
    if first {
        screenshots(&c, "preview").await;
    }
    press(&c, "Close").await;

    // Delete, find it in the trash, restore it.
    click(&c, "button[aria-label='Delete big.bin']").await;
    until(
        &c,
        "big.bin gone",
        "!document.querySelector('[aria-label=\"Delete big.bin\"]')",
    )
    .await;
    press(&c, "Trash").await;
    until(
        &c,
        "the trash",
        "document.body.innerText.includes('big.bin')",
    )
    .await;
    press(&c, "Restore").await;
    until(
        &c,
        "the trash empty",
        "document.body.innerText.includes('The trash is empty')",
    )
    .await;
    c.goto(&s.at("/files")).await.unwrap();
    until(
        &c,
        "big.bin back",
        "document.querySelector('[aria-label=\"Delete big.bin\"]')",
    )
    .await;

    // Photos: an upload whose thumbnail appears in the timeline once it is made.
    c.goto(&s.at("/photos")).await.unwrap();
    until(
        &c,
        "the timeline",
        "document.body.innerText.includes('Upload photos')",
    )
    .await;
    let picker = c.find(Locator::Css("input[type=file]")).await.unwrap();
    picker.send_keys(&fixture("DSCN0010.jpg")).await.unwrap();
    until(
        &c,
        "the thumbnail",
        "[...document.querySelectorAll('.photos img')].some(i => i.complete && i.naturalWidth > 0)",
    )
    .await;
    let heading = js(
        &c,
        "return document.querySelector('.timeline h2')?.innerText || ''",
    )
    .await;
    assert!(
        !heading.as_str().unwrap().is_empty(),
        "the timeline has date headings"
    );
    if first {
        screenshots(&c, "photos").await;
    }
    click(&c, ".photos button").await;
    until(
        &c,
        "the viewer with its metadata",
        "document.querySelector('dialog dl')?.innerText.includes('NIKON')",
    )
    .await;
    if first {
        screenshots(&c, "photo-viewer").await;
    }
    press(&c, "Close").await;

    // An album.
    c.goto(&s.at("/photos/albums")).await.unwrap();
    fill(&c, "name", "Verão").await;
    click(&c, "button[type=submit]").await;
    until(&c, "the album", "document.body.innerText.includes('Verão')").await;
    if first {
        screenshots(&c, "albums").await;
    }
    let albums = t
        .taina
        .jaci()
        .albums(
            &t.taina
                .operator()
                .act_as(None, "ana@example.org")
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(albums.len(), 1);
    c.close().await.unwrap();
}

async fn two_people_chat_live(t: TestInstance) {
    let admin = t.setup().await;
    let admin_actor = t.actor(&admin).await;
    t.join(&admin_actor, "bia@example.org", Role::Member).await;
    let s = TestServer::start(&t).await;
    let d = driver().await;
    let (ana, bia) = (browser(&d).await, browser(&d).await);
    for (c, email) in [(&ana, "admin@example.org"), (&bia, "bia@example.org")] {
        c.goto(&s.at("/login")).await.unwrap();
        fill(c, "email", email).await;
        fill(c, "password", PASSWORD).await;
        click(c, "button[type=submit]").await;
        until(
            c,
            "the home screen",
            "document.body.innerText.includes('Hello')",
        )
        .await;
    }

    // Ana starts a conversation with Bia; Bia waits on her home screen.
    ana.goto(&s.at("/messages")).await.unwrap();
    press(&ana, "New conversation").await;
    click(&ana, "dialog input[type=checkbox]").await;
    press(&ana, "Start").await;
    until(
        &ana,
        "the thread",
        "location.pathname.startsWith('/messages/') && document.querySelector('textarea')",
    )
    .await;
    fill(&ana, "content", "Oi Bia, jantar hoje?\u{E007}").await;
    until(
        &ana,
        "the message shown",
        "document.querySelector('.message.mine')?.innerText.includes('jantar')",
    )
    .await;

    // Bia's unread badge counts it, live.
    until(&bia, "the unread badge", "[...document.querySelectorAll('[data-unread]')].some(b => !b.hidden && b.textContent === '1')").await;
    if t.taina.backend().name() == "sqlite" {
        screenshots(&bia, "home-unread").await;
    }
    bia.goto(&s.at("/messages")).await.unwrap();
    until(
        &bia,
        "the conversation listed",
        "document.body.innerText.includes('jantar')",
    )
    .await;
    if t.taina.backend().name() == "sqlite" {
        screenshots(&bia, "conversations").await;
    }
    click(&bia, "ul.conversations a").await;
    until(
        &bia,
        "the thread",
        "document.querySelector('.message')?.innerText.includes('jantar')",
    )
    .await;

    // Bia types: Ana sees it. Bia sends: Ana gets it without reloading.
    let field = bia.find(Locator::Css("textarea")).await.unwrap();
    field.send_keys("Claro").await.unwrap();
    until(
        &ana,
        "the typing indicator",
        "document.querySelector('.typing')?.innerText.includes('is typing')",
    )
    .await;
    if t.taina.backend().name() == "sqlite" {
        screenshots(&ana, "thread-typing").await;
    }
    field.send_keys(", às oito!\u{E007}").await.unwrap();
    until(&ana, "Bia's answer", "[...document.querySelectorAll('.message:not(.mine)')].some(m => m.innerText.includes('às oito'))").await;
    until(
        &ana,
        "the typing indicator gone",
        "document.querySelector('.typing')?.innerText === ''",
    )
    .await;
    // Reading it clears Bia's badge.
    until(
        &bia,
        "no unread left",
        "[...document.querySelectorAll('[data-unread]')].every(b => b.hidden)",
    )
    .await;
    ana.close().await.unwrap();
    bia.close().await.unwrap();
}

async fn the_offline_page_comes_from_the_service_worker(t: TestInstance) {
    let s = TestServer::start(&t).await;
    let d = driver().await;
    let c = browser(&d).await;
    c.goto(&s.at("/login")).await.unwrap();
    until(
        &c,
        "the service worker in control",
        "navigator.serviceWorker.controller !== null || (location.reload(), false)",
    )
    .await;
    // The manifest makes the app installable: name, start URL, standalone display, icons.
    let manifest: Value = reqwest::get(s.at("/manifest.webmanifest"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert!(
        manifest["icons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["sizes"] == "512x512")
    );
    let icon = reqwest::get(s.at("/icons/icon-512.png")).await.unwrap();
    assert_eq!(icon.headers()["content-type"], "image/png");

    // The server goes away: a page still opens, and says what is going on.
    let base = s.base.clone();
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.goto(&format!("{base}/files")).await.unwrap();
    until(
        &c,
        "the offline page",
        "document.body.innerText.includes('You are offline')",
    )
    .await;
    if t.taina.backend().name() == "sqlite" {
        screenshots(&c, "offline").await;
    }
    c.close().await.unwrap();
}

/// A Chrome DevTools Protocol command, through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

async fn installable_large_uploads_and_album_order(t: TestInstance) {
    let admin = t.setup().await;
    let actor = t.actor(&admin).await;
    let mut photo_ids = Vec::new();
    for name in ["Canon_40D.jpg", "Nikon_D70.jpg", "jolla.jpg"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]);
        let photo = t
            .taina
            .jaci()
            .import(
                &actor,
                taina::jaci::NewPhoto {
                    location: taina::ybira::Location::MyFiles,
                    name: name.into(),
                    declared_size: None,
                    client_file_time: None,
                },
                stream,
            )
            .await
            .unwrap();
        photo_ids.push(photo.id);
    }
    let album = t
        .taina
        .jaci()
        .create_album(
            &actor,
            taina::jaci::NewAlbum {
                name: "Férias".into(),
                description: String::new(),
                visibility: taina::jaci::Visibility::Private,
            },
        )
        .await
        .unwrap();
    t.taina
        .jaci()
        .add_to_album(&actor, &album.id, &photo_ids)
        .await
        .unwrap();
    let s = TestServer::start(&t).await;
    let d = driver().await;
    let c = browser(&d).await;
    c.goto(&s.at("/login")).await.unwrap();
    fill(&c, "email", "admin@example.org").await;
    fill(&c, "password", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    until(
        &c,
        "the home screen",
        "document.body.innerText.includes('Hello')",
    )
    .await;

    // Chromium finds the app installable: manifest, icons, a service worker in control.
    until(
        &c,
        "the service worker in control",
        "navigator.serviceWorker.controller !== null || (location.reload(), false)",
    )
    .await;
    let answer = c
        .issue_cmd(Cdp {
            cmd: "Page.getInstallabilityErrors",
            params: json!({}),
        })
        .await
        .unwrap();
    let errors = answer["installabilityErrors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(errors.is_empty(), "not installable: {answer}");

    // A large file goes up resumably (tus), whole and exact.
    let big = t.dir.path().join("video.bin");
    let bytes: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &bytes).unwrap();
    c.goto(&s.at("/files")).await.unwrap();
    until(
        &c,
        "the file browser",
        "document.body.innerText.includes('New folder')",
    )
    .await;
    c.find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(&big.canonicalize().unwrap().display().to_string())
        .await
        .unwrap();
    until(
        &c,
        "the large file listed",
        "document.querySelector('[aria-label=\"Delete video.bin\"]')",
    )
    .await;
    let page = t
        .taina
        .ybira()
        .list(&actor, &taina::ybira::Location::MyFiles, None, None)
        .await
        .unwrap();
    let stored = page.items.iter().find(|i| i.name == "video.bin").unwrap();
    assert_eq!(stored.size_bytes, bytes.len() as u64);
    use sha2::Digest;
    let expected: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        stored.etag.as_deref(),
        Some(format!("\"{expected}\"").as_str())
    );

    // The album: drag the last photo to the front (the page's own drag handlers, fed the events a
    // drag gives), then make it the cover.
    c.goto(&s.at(&format!("/photos/albums/{}", album.id)))
        .await
        .unwrap();
    until(
        &c,
        "the album's photos",
        "document.querySelectorAll('.photos [data-photo]').length === 3",
    )
    .await;
    js(
        &c,
        "const t = [...document.querySelectorAll('.photos [data-photo]')]; \
        t[2].dispatchEvent(new DragEvent('dragstart', {bubbles: true})); \
        t[0].dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true})); \
        t[0].dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true})); return null;",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let order: Vec<_> = t
            .taina
            .jaci()
            .album_photos(&actor, &album.id)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        if order
            == [
                photo_ids[2].clone(),
                photo_ids[0].clone(),
                photo_ids[1].clone(),
            ]
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the order never changed: {order:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    press(&c, "make cover").await;
    until(
        &c,
        "the cover set",
        "document.body.innerText.includes('Cover set')",
    )
    .await;
    let cover = t
        .taina
        .jaci()
        .album(&actor, &album.id)
        .await
        .unwrap()
        .cover_photo_id;
    assert_eq!(cover.as_ref(), Some(&photo_ids[2]));
    if t.taina.backend().name() == "sqlite" {
        screenshots(&c, "album").await;
    }
    c.close().await.unwrap();
}

backend_tests!(
    setup_files_and_photos,
    two_people_chat_live,
    the_offline_page_comes_from_the_service_worker,
    installable_large_uploads_and_album_order
);
