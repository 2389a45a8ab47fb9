//! A PostgreSQL server of our own, run from the local installation.
//!
//! The README's first command and the test harness both use this: when no
//! database is configured, Switchboard initialises a cluster in a data folder
//! of its own (`initdb`), starts it on a loopback port (`pg_ctl`), reuses it
//! on the next start, and stops it on exit. Nothing is downloaded: the
//! binaries come from PATH, `pg_config --bindir` or `/usr/lib/postgresql/*/bin`.
//!
//! PostgreSQL refuses to run as root, and CI and containers often are root;
//! then the server runs as the `postgres` system user (or `nobody`), which
//! owns the data folder.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Superuser of an embedded cluster (trust auth on loopback only).
pub const SUPERUSER: &str = "switchboard";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH, via pg_config, \
         or under /usr/lib/postgresql/*/bin: install the PostgreSQL server \
         (Debian/Ubuntu: `apt-get install postgresql`), or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("embedded PostgreSQL data folder {path}: {detail}")]
    DataDir { path: String, detail: String },
}

/// How to run the embedded server.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    pub data_dir: PathBuf,
    /// Where initdb and pg_ctl live; found automatically when `None`.
    pub bin_dir: Option<PathBuf>,
    /// A fixed port; a free loopback port when `None`.
    pub port: Option<u16>,
    /// Trade durability for speed (test clusters only).
    pub fast_unsafe: bool,
    pub max_connections: u32,
}

impl EmbeddedOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EmbeddedOptions {
            data_dir: data_dir.into(),
            bin_dir: None,
            port: None,
            fast_unsafe: false,
            max_connections: 100,
        }
    }
}

/// A running embedded cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    /// Whether `stop` may stop the server: this process started it, or
    /// adopted it from a process that is gone. Never one a live process owns.
    owned: bool,
}

impl EmbeddedPostgres {
    /// Initialises the data folder if it is new, then starts the server, or
    /// adopts it if a previous run left it running. Blocking.
    pub fn start(opts: &EmbeddedOptions) -> Result<EmbeddedPostgres, EmbeddedError> {
        let bin_dir = match &opts.bin_dir {
            Some(dir) if dir.join("initdb").is_file() => dir.clone(),
            Some(_) => return Err(EmbeddedError::BinariesNotFound),
            None => find_bin_dir().ok_or(EmbeddedError::BinariesNotFound)?,
        };
        let run_as = if running_as_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        let data_dir = absolute(&opts.data_dir)?;
        if let Some((uid, _)) = run_as {
            check_reachable_by(&data_dir, uid)?;
        }
        let mut pg = EmbeddedPostgres {
            data_dir,
            bin_dir,
            port: 0,
            run_as,
            owned: false,
        };
        if !pg.data_dir.join("PG_VERSION").is_file() {
            pg.initdb(opts)?;
        }
        if let Some(port) = pg.running_port() {
            pg.port = port;
            pg.owned = pg.claim_if_orphaned();
            tracing::info!(
                port,
                data_dir = %pg.data_dir.display(),
                owned = pg.owned,
                "reusing the embedded PostgreSQL already running"
            );
            return Ok(pg);
        }
        pg.port = match opts.port {
            Some(p) => p,
            None => free_port()?,
        };
        pg.pg_ctl_start()?;
        pg.owned = true;
        pg.write_owner();
        tracing::info!(port = pg.port, data_dir = %pg.data_dir.display(), "embedded PostgreSQL started");
        Ok(pg)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A tokio-postgres connection string for `dbname` on this server.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={SUPERUSER} dbname={dbname}",
            self.port
        )
    }

    /// Stops the server (fast shutdown: sessions are ended, data is kept),
    /// unless another live process owns it. Blocking.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.owned {
            tracing::info!(data_dir = %self.data_dir.display(), "leaving the embedded PostgreSQL to the process that started it");
            return Ok(());
        }
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .output()
            .map_err(|e| cmd_err("pg_ctl stop", e.to_string()))?;
        if !out.status.success() && self.running_port().is_some() {
            return Err(cmd_err("pg_ctl stop", String::from_utf8_lossy(&out.stderr)));
        }
        let _ = fs::remove_file(self.owner_file());
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL stopped");
        Ok(())
    }

    /// Beside the data folder (which belongs to the server's user): the pid
    /// of the process that answers for stopping the server.
    fn owner_file(&self) -> PathBuf {
        self.data_dir.with_extension("owner")
    }

    fn write_owner(&self) {
        if let Err(e) = fs::write(self.owner_file(), std::process::id().to_string()) {
            tracing::warn!(error = %e, "cannot record the owner of the embedded PostgreSQL");
        }
    }

    /// Takes over a running server whose owner is gone (a crashed run), so
    /// that it is stopped on exit; leaves one a live process owns alone.
    fn claim_if_orphaned(&self) -> bool {
        let owner = fs::read_to_string(self.owner_file())
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        let alive = owner.is_some_and(|pid| {
            pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
        });
        if alive {
            return false;
        }
        self.write_owner();
        true
    }

    fn initdb(&self, opts: &EmbeddedOptions) -> Result<(), EmbeddedError> {
        let dir = &self.data_dir;
        fs::create_dir_all(dir).map_err(|e| data_err(dir, e))?;
        if fs::read_dir(dir)
            .map_err(|e| data_err(dir, e))?
            .next()
            .is_some()
        {
            return Err(EmbeddedError::DataDir {
                path: dir.display().to_string(),
                detail: "exists, is not empty and holds no PostgreSQL cluster".into(),
            });
        }
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| data_err(dir, e))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| data_err(dir, e))?;
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .arg("--no-instructions")
            .output()
            .map_err(|e| cmd_err("initdb", e.to_string()))?;
        if !out.status.success() {
            return Err(cmd_err("initdb", String::from_utf8_lossy(&out.stderr)));
        }
        // Loopback only, no Unix socket (its path could be too long or unwritable).
        let mut conf = format!(
            "\n# added by switchboard\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n\
             max_connections = {}\n",
            opts.max_connections
        );
        if opts.fast_unsafe {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let conf_path = dir.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf_path).map_err(|e| data_err(&conf_path, e))?;
        text.push_str(&conf);
        fs::write(&conf_path, text).map_err(|e| data_err(&conf_path, e))?;
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), EmbeddedError> {
        let log = self.data_dir.join("server.log");
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(format!("-p {}", self.port))
            .args(["-w", "-t", "60", "start"])
            // pg_ctl leaves the server running after it exits: keep it out of
            // our stdio so a terminal's Ctrl-C reaches us, and we stop it.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .output()
            .map_err(|e| cmd_err("pg_ctl start", e.to_string()))?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log)
                .map(|t| t.lines().rev().take(5).collect::<Vec<_>>().join(" | "))
                .unwrap_or_default();
            return Err(cmd_err(
                "pg_ctl start",
                format!("{} {tail}", String::from_utf8_lossy(&out.stderr).trim()),
            ));
        }
        Ok(())
    }

    /// The port of a server running on this data folder, from postmaster.pid.
    fn running_port(&self) -> Option<u16> {
        let file = fs::File::open(self.data_dir.join("postmaster.pid")).ok()?;
        let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        let pid: u32 = lines.first()?.trim().parse().ok()?;
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return None;
        }
        // A stale pid file whose pid was reused by an unrelated process.
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !comm.trim().starts_with("postgres") {
            return None;
        }
        lines.get(3)?.trim().parse().ok()
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        // The cwd may be unreadable for the unprivileged user (e.g. under /root).
        cmd.current_dir("/");
        cmd.env_remove("PGDATA").env("LC_ALL", "C");
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }
}

/// Finds the directory holding `initdb` and `pg_ctl`.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").is_file() {
            return Some(dir);
        }
    }
    // Debian keeps server binaries off PATH, one folder per major version.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// The uid and gid of `postgres`, else `nobody`, from /etc/passwd.
fn unprivileged_user() -> Result<(u32, u32), EmbeddedError> {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let find = |name: &str| {
        passwd.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    };
    find("postgres")
        .or_else(|| find("nobody"))
        .ok_or_else(|| EmbeddedError::Command {
            what: "choosing a user for PostgreSQL".into(),
            detail: "running as root and neither a `postgres` nor a `nobody` user exists".into(),
        })
}

/// As root, the server runs as another user, who must be able to enter
/// every folder above the data folder; say so plainly instead of letting
/// initdb fail obscurely.
fn check_reachable_by(data_dir: &Path, uid: u32) -> Result<(), EmbeddedError> {
    for dir in data_dir.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(dir) else {
            continue; // not created yet: we create it, world-enterable
        };
        let enterable = meta.mode() & 0o001 != 0 || meta.uid() == uid;
        if !enterable {
            return Err(EmbeddedError::DataDir {
                path: data_dir.display().to_string(),
                detail: format!(
                    "running as root, PostgreSQL runs as uid {uid}, which cannot enter {}: \
                     set database.embedded.data_dir to a folder it can reach, or `chmod o+x {}`",
                    dir.display(),
                    dir.display()
                ),
            });
        }
    }
    Ok(())
}

fn free_port() -> Result<u16, EmbeddedError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| cmd_err("finding a free port", e.to_string()))
}

fn absolute(p: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(p).map_err(|e| data_err(p, e))
}

fn data_err(p: &Path, e: std::io::Error) -> EmbeddedError {
    EmbeddedError::DataDir {
        path: p.display().to_string(),
        detail: e.to_string(),
    }
}

fn cmd_err(what: &str, detail: impl Into<String>) -> EmbeddedError {
    EmbeddedError::Command {
        what: what.into(),
        detail: detail.into().trim().to_string(),
    }
}

/// Creates database `name` on the cluster if it does not exist yet.
pub async fn ensure_database(pg: &EmbeddedPostgres, name: &str) -> Result<(), crate::StoreError> {
    let (client, conn) =
        tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls).await?;
    let conn = tokio::spawn(conn);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE {}", quote_ident(name));
        if let Err(e) = client.execute(sql.as_str(), &[]).await {
            // Another process may have created it in the meantime.
            if e.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) {
                return Err(e.into());
            }
        }
    }
    drop(client);
    let _ = conn.await;
    Ok(())
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
