//! What the PostgreSQL + Redis configurations share: a scratch database and
//! a throwaway `redis-server`, each removed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A database created for this run on the PostgreSQL server `admin`
/// (an admin URL); dropped (forcibly) with this.
pub struct Database {
    admin: String,
    name: String,
    /// Its URL, for the servers' `DATABASE_URL`.
    pub url: String,
}

impl Database {
    /// Creates `leetchat_bench_<pid>` on `admin`.
    pub fn create(admin: &str) -> Result<Database> {
        Self::create_named(admin, "")
    }

    /// Another fresh database on the same server: `leetchat_bench_<pid><suffix>`.
    pub fn sibling(&self, suffix: &str) -> Result<Database> {
        Self::create_named(&self.admin, suffix)
    }

    /// Creates `leetchat_bench_<pid><suffix>` on `admin`.
    pub fn create_named(admin: &str, suffix: &str) -> Result<Database> {
        if admin.is_empty() {
            bail!("no --pg given");
        }
        let name = format!("leetchat_bench_{}{suffix}", std::process::id());
        psql(admin, &format!("CREATE DATABASE {name}"))?;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Ok(Database {
            url: format!("{base}/{name}"),
            admin: admin.to_owned(),
            name,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(admin: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .args([admin, "-qc", sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A `redis-server` without persistence on a free port; killed with this.
pub struct Redis {
    child: Child,
    /// Its port.
    pub port: u16,
}

impl Redis {
    /// Starts it and gives it a moment to listen.
    pub async fn start() -> Result<Redis> {
        Self::start_on(crate::proc::free_port()?).await
    }

    /// Starts it on `port` (to bring a killed one back at its address).
    pub async fn start_on(port: u16) -> Result<Redis> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .context("starting redis-server")?;
        let redis = Redis { child, port };
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(redis)
    }

    /// Kills it (SIGKILL) and starts a new, empty one on the same port.
    pub async fn restart(&mut self) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        tokio::time::sleep(Duration::from_millis(500)).await;
        *self = Redis::start_on(self.port).await?;
        Ok(())
    }

    /// Its URL, for the servers' `REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
