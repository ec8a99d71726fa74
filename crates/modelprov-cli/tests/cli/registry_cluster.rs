//! A PostgreSQL server of the test's own (initdb in a temporary folder, on a free port), so that a
//! test can stop and restart it without touching the machine's server that other tests share.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;

/// A private PostgreSQL cluster, stopped (without waiting) and removed on drop.
pub struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// `runuser -u postgres --` when the tests run as root (PostgreSQL refuses to).
    as_user: Vec<String>,
    _dir: tempfile::TempDir,
}

impl PrivateCluster {
    /// A new cluster, started, with trust authentication for `postgres` on loopback.
    pub fn start() -> PrivateCluster {
        let bin = server_binaries();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let as_user = if running_as_root() {
            // The server's own user must own its data folder and reach it.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let uid = id(&["-u", "postgres"]);
            let gid = id(&["-g", "postgres"]);
            std::os::unix::fs::chown(&data, Some(uid), Some(gid)).unwrap();
            ["runuser", "-u", "postgres", "--"]
                .map(String::from)
                .to_vec()
        } else {
            Vec::new()
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = PrivateCluster {
            bin,
            data,
            port,
            as_user,
            _dir: dir,
        };
        cluster.run(
            "initdb",
            &["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"],
        );
        cluster.start_again();
        cluster
    }

    /// The admin URL, for `TestDatabase::create_at`.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as a crash would: no checkpoint, every session cut at once.
    pub fn crash(&self) {
        self.run("pg_ctl", &["stop", "-m", "immediate", "-w", "-D"]);
    }

    /// Starts the stopped server again (crash recovery included), waiting until it accepts
    /// connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        let log = log.to_str().unwrap();
        self.run(
            "pg_ctl",
            &["start", "-w", "-t", "60", "-l", log, "-o", &options, "-D"],
        );
    }

    /// The server program `program`, run as the server's user.
    fn command(&self, program: &str) -> Command {
        match self.as_user.split_first() {
            Some((runuser, rest)) => {
                let mut command = Command::new(runuser);
                command.args(rest).arg(self.bin.join(program));
                command
            }
            None => Command::new(self.bin.join(program)),
        }
    }

    /// Runs the server program `program` with `args` and the data folder last.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .arg(&self.data)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .output();
    }
}

/// The folder of `initdb` and `pg_ctl`: `MODELPROV_TEST_PG_BINDIR`, else the newest Debian
/// PostgreSQL under /usr/lib/postgresql, else `pg_config --bindir`.
fn server_binaries() -> PathBuf {
    if let Some(dir) = std::env::var_os("MODELPROV_TEST_PG_BINDIR") {
        return dir.into();
    }
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .max();
    if let Some((_, bin)) = debian {
        return bin;
    }
    let output = Command::new("pg_config").arg("--bindir").output();
    match output {
        Ok(output) if output.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        }
        _ => panic!(
            "this test runs a PostgreSQL server of its own and needs initdb and pg_ctl: \
             set MODELPROV_TEST_PG_BINDIR to their folder"
        ),
    }
}

fn running_as_root() -> bool {
    id(&["-u"]) == 0
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().unwrap();
    assert!(output.status.success(), "id {args:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}
