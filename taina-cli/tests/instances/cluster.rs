//! Two `taina serve` on one PostgreSQL database and one S3 bucket, behind nginx (round-robin, with
//! WebSocket upgrades), as an operator would run them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use taina::Config;

/// A running `taina serve`.
pub struct Instance {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// Where it serves directly, ending in `/`.
    pub url: String,
}

impl Instance {
    /// Starts `taina serve` with `config`'s database and storage, its own data directory `dir`.
    pub fn start(config: &Config, dir: &Path, name: &str) -> Instance {
        std::fs::create_dir_all(dir).unwrap();
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_taina"));
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("TAINA_CONFIG")
            .env("TAINA_DATA_DIR", dir)
            .env("TAINA_LOG", "warn")
            .env("TAINA_PASSWORD_HASHING_THREADS", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        let settings = [
            ("TAINA_DATABASE_URL", &config.database_url),
            ("TAINA_STORAGE_URL", &config.storage_url),
            ("TAINA_STORAGE_ENDPOINT", &config.storage_endpoint),
            ("TAINA_STORAGE_REGION", &config.storage_region),
            ("TAINA_STORAGE_ACCESS_KEY_ID", &config.storage_access_key_id),
            (
                "TAINA_STORAGE_SECRET_ACCESS_KEY",
                &config.storage_secret_access_key,
            ),
        ];
        for (name, value) in settings {
            command.env(name, value.as_deref().unwrap());
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(url) = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
        else {
            let _ = child.kill();
            panic!(
                "{name} did not start: {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        assert!(
            line.contains("s3://"),
            "{name} serves its blobs from S3: {line}"
        );
        Instance {
            url: format!("{}/", url.trim_end_matches('/')),
            child,
            _stdout: stdout,
        }
    }

    /// `127.0.0.1:PORT`, for nginx.
    pub fn address(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    }

    /// SIGKILL: no shutdown, no cleanup, as a crash or an OOM kill.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx in front of the instances: round-robin, streaming both ways, WebSocket upgrades passed
/// through, a failed instance skipped for what can be retried.
pub struct Nginx {
    child: Child,
    /// Where it listens, ending in `/`.
    pub url: String,
}

impl Nginx {
    /// Starts nginx (Debian's `nginx-light`) with its own configuration in `dir`.
    pub fn start(dir: &Path, upstreams: &[String]) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or_else(|| {
                panic!("nginx is needed for the two-instance test (scripts/test.sh installs nginx-light)")
            });
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let port = {
            let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            socket.local_addr().unwrap().port()
        };
        let servers: String = upstreams
            .iter()
            .map(|a| format!("        server {a} max_fails=1 fail_timeout=30s;\n"))
            .collect();
        // As root, the workers would run as nobody, who may not read this test's directory.
        let root = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
        };
        let user = if root { "user root;" } else { "" };
        let temp = dir.display();
        let conf = format!(
            "{user}
worker_processes 1;
error_log {temp}/logs/error.log warn;
pid {temp}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream taina {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            proxy_pass http://taina;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 300s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned at once, so that its Drop stops and reaps nginx on every path.
        let nginx = Nginx {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(nginx);
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, so that the master takes its worker down too (SIGKILL would orphan it).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
