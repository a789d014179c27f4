//! Debian's nginx in front of a server, with nginx's default proxy settings, from
//! `scripts/nginx.sh` (which installs it when it is missing).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::private::{free_port, script, temp_dir};

/// A running nginx of one test's own; stopped when dropped.
pub struct Nginx {
    dir: PathBuf,
    /// Where it listens.
    pub addr: String,
}

impl Nginx {
    pub fn start(upstream: SocketAddr) -> Self {
        Self::start_in(upstream, &[])
    }

    /// With `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`, as most guides
    /// configure it: what the client sent, then the address nginx saw.
    pub fn start_forwarding(upstream: SocketAddr) -> Self {
        Self::start_in(upstream, &["forwarding"])
    }

    fn start_in(upstream: SocketAddr, mode: &[&str]) -> Self {
        let dir = temp_dir("nginx");
        let port = free_port().to_string();
        let (dir_arg, upstream) = (dir.to_string_lossy(), upstream.to_string());
        let mut args = vec!["start", &dir_arg, &port, &upstream];
        args.extend_from_slice(mode);
        let addr = script("nginx.sh", &args);
        Self { dir, addr }
    }

    /// Every request nginx handled, a line each.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        script("nginx.sh", &["stop", &self.dir.to_string_lossy()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
