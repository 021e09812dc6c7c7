//! The cluster kubernaut runs in, when it runs in a pod: its API server from
//! `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` (or a configured URL), its
//! credentials from the pod's ServiceAccount directory.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::ClusterError;

/// The default name of the in-cluster context.
pub const IN_CLUSTER_CONTEXT: &str = "in-cluster";

/// Where Kubernetes mounts a pod's ServiceAccount credentials.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

const SERVICE_HOST: &str = "KUBERNETES_SERVICE_HOST";
const SERVICE_PORT: &str = "KUBERNETES_SERVICE_PORT";
const TOKEN_FILE: &str = "token";
const CA_FILE: &str = "ca.crt";
const NAMESPACE_FILE: &str = "namespace";

/// When the in-cluster context exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InClusterMode {
    /// When kubernaut runs in a pod: `KUBERNETES_SERVICE_HOST` is set and the ServiceAccount
    /// token file exists. Otherwise there is no in-cluster context, and that is fine.
    Auto,
    /// Always: not running in a pod (a missing variable or file) is an error.
    Required,
}

/// How to find the cluster kubernaut runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InClusterOptions {
    /// The context's name, [`IN_CLUSTER_CONTEXT`] by default.
    pub context: String,
    /// When the context exists.
    pub mode: InClusterMode,
    /// The directory holding the ServiceAccount's `token`, `ca.crt` and `namespace` files,
    /// [`SERVICE_ACCOUNT_DIR`] by default.
    pub service_account_dir: PathBuf,
    /// The API server's URL; `None` for `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`.
    /// With an `http://` URL no CA is read (tests against a plain-HTTP API).
    pub api_url: Option<String>,
}

impl Default for InClusterOptions {
    fn default() -> Self {
        Self {
            context: IN_CLUSTER_CONTEXT.to_owned(),
            mode: InClusterMode::Auto,
            service_account_dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
            api_url: None,
        }
    }
}

/// The client configuration of the in-cluster context, built as kube's `Config::incluster_env`
/// does but from `options.service_account_dir`; `Ok(None)` when the mode is `Auto` and kubernaut
/// does not run in a pod. `env` reads an environment variable.
///
/// The token is given to kube as a file, which it re-reads at least once a minute (projected
/// ServiceAccount tokens are rotated); with HTTPS, so is the CA. The files are read here once,
/// so that a missing or unreadable one is an error at start-up.
pub(crate) fn config(
    options: &InClusterOptions,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<kube::Config>, ClusterError> {
    let refused = |reason: String| ClusterError::InCluster {
        context: options.context.clone(),
        reason,
    };
    let env = |name: &str| env(name).filter(|value| !value.is_empty());
    let dir = &options.service_account_dir;
    let token_file = dir.join(TOKEN_FILE);
    if options.mode == InClusterMode::Auto {
        if env(SERVICE_HOST).is_none() {
            log::debug!("no in-cluster context: {SERVICE_HOST} is not set (not in a pod)");
            return Ok(None);
        }
        if !token_file.exists() {
            log::debug!(
                "no in-cluster context: {} does not exist (no ServiceAccount token)",
                token_file.display()
            );
            return Ok(None);
        }
    }

    let url = match &options.api_url {
        Some(url) => url.clone(),
        None => service_url(env(SERVICE_HOST), env(SERVICE_PORT)).map_err(refused)?,
    };
    let cluster_url: http::Uri = url
        .parse()
        .map_err(|error| refused(format!("invalid API server URL {url:?}: {error}")))?;
    let https = match cluster_url.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(refused(format!(
                "invalid API server URL {url:?}: not an http:// or https:// URL"
            )));
        }
    };
    if cluster_url.host().is_none() {
        return Err(refused(format!(
            "invalid API server URL {url:?}: it has no host"
        )));
    }

    let token = read(&token_file).map_err(&refused)?;
    if token.trim().is_empty() {
        return Err(refused(format!("{} is empty", token_file.display())));
    }
    let namespace_file = dir.join(NAMESPACE_FILE);
    let namespace = if namespace_file.exists() {
        read(&namespace_file).map_err(&refused)?.trim().to_owned()
    } else {
        String::new()
    };

    let mut config = kube::Config::new(cluster_url);
    if !namespace.is_empty() {
        config.default_namespace = namespace;
    }
    config.auth_info.token_file = Some(token_file.to_string_lossy().into_owned());
    if https {
        let ca_file = dir.join(CA_FILE);
        config.root_cert = Some(certificates(&ca_file).map_err(refused)?);
        config.root_cert_file = Some(ca_file);
    }
    Ok(Some(config))
}

/// `https://HOST:PORT` from `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, an IPv6
/// address in brackets.
fn service_url(host: Option<String>, port: Option<String>) -> Result<String, String> {
    let host = host.ok_or_else(|| format!("{SERVICE_HOST} is not set (not in a pod?)"))?;
    let port = port.ok_or_else(|| format!("{SERVICE_PORT} is not set (not in a pod?)"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{SERVICE_PORT} is not a port number: {port:?}"))?;
    Ok(match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("https://[{ip}]:{port}"),
        _ => format!("https://{host}:{port}"),
    })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// The DER certificates of a PEM bundle: at least one.
fn certificates(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let pem =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .map(|certificate| certificate.map(|der| der.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "cannot read {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certificates)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A self-signed certificate (CN kubernetes), valid until 2126.
    pub(crate) const CA: &str = "-----BEGIN CERTIFICATE-----
MIIBgDCCASegAwIBAgIUa/wmVtZX0bJub9TakXaA144R/7gwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAgFw0yNjEyMDEwMzAxMDRaGA8yMTI2MTEw
NzAzMDEwNFowFTETMBEGA1UEAwwKa3ViZXJuZXRlczBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABGoLGUsd/+okYMGN+FJ73VGwT8uo9pXmLWfdhh5OXwbQypAozRCo
SuAFuafhIzyvOFoy/XvM/j+yvgOh7hJ/dX6jUzBRMB0GA1UdDgQWBBQ1uqAOrVYd
iog55J1BbeQK65A+UTAfBgNVHSMEGDAWgBQ1uqAOrVYdiog55J1BbeQK65A+UTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIB+SrMftAd+9nHfUeWqT
nBgU2mq7Yb5jxfgTphfIhJOqAiAXn7EUVLfJBiWKzzuqHfo9r8hca7gpuKPr5bu9
D0zM1g==
-----END CERTIFICATE-----
";

    /// A ServiceAccount directory with the files given.
    pub(crate) fn service_account(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn options(mode: InClusterMode, dir: &Path) -> InClusterOptions {
        InClusterOptions {
            mode,
            service_account_dir: dir.to_owned(),
            ..InClusterOptions::default()
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const POD: [(&str, &str); 2] = [(SERVICE_HOST, "10.96.0.1"), (SERVICE_PORT, "443")];

    fn error(options: &InClusterOptions, pairs: &[(&str, &str)]) -> String {
        config(options, env(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_the_pod_paths() {
        let options = InClusterOptions::default();
        assert_eq!(options.context, "in-cluster");
        assert_eq!(options.mode, InClusterMode::Auto);
        assert_eq!(
            options.service_account_dir,
            Path::new("/var/run/secrets/kubernetes.io/serviceaccount")
        );
        assert_eq!(options.api_url, None);
    }

    #[test]
    fn a_pod_gets_https_to_the_service_with_the_token_file_and_the_ca() {
        let dir = service_account(&[("token", "jwt"), ("ca.crt", CA), ("namespace", "tools\n")]);
        let config = config(&options(InClusterMode::Auto, dir.path()), env(&POD))
            .unwrap()
            .expect("in a pod");
        assert_eq!(config.cluster_url.to_string(), "https://10.96.0.1:443/");
        assert_eq!(config.default_namespace, "tools");
        assert_eq!(
            config.auth_info.token_file.as_deref(),
            Some(dir.path().join("token").to_str().unwrap())
        );
        assert!(config.auth_info.token.is_none());
        assert_eq!(config.root_cert.as_ref().map(Vec::len), Some(1));
        assert_eq!(config.root_cert_file, Some(dir.path().join("ca.crt")));
    }

    #[test]
    fn service_urls_bracket_ipv6_and_need_both_variables() {
        let url = |host: &str, port: &str| service_url(Some(host.into()), Some(port.into()));
        assert_eq!(url("10.0.0.1", "6443").unwrap(), "https://10.0.0.1:6443");
        assert_eq!(url("fd00::1", "443").unwrap(), "https://[fd00::1]:443");
        assert_eq!(
            url("kubernetes.default.svc", "443").unwrap(),
            "https://kubernetes.default.svc:443"
        );
        assert_eq!(
            url("10.0.0.1", "https").unwrap_err(),
            "KUBERNETES_SERVICE_PORT is not a port number: \"https\""
        );
        assert_eq!(
            service_url(Some("10.0.0.1".into()), None).unwrap_err(),
            "KUBERNETES_SERVICE_PORT is not set (not in a pod?)"
        );
    }

    #[test]
    fn auto_outside_a_pod_is_no_context() {
        let dir = service_account(&[("token", "jwt"), ("ca.crt", CA)]);
        let auto = options(InClusterMode::Auto, dir.path());
        assert!(config(&auto, env(&[])).unwrap().is_none());
        assert!(
            config(&auto, env(&[(SERVICE_HOST, ""), (SERVICE_PORT, "443")]))
                .unwrap()
                .is_none()
        );
        let empty = service_account(&[]);
        assert!(
            config(&options(InClusterMode::Auto, empty.path()), env(&POD))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn required_outside_a_pod_is_an_error_naming_what_is_missing() {
        let dir = service_account(&[("token", "jwt"), ("ca.crt", CA)]);
        let required = options(InClusterMode::Required, dir.path());
        assert_eq!(
            error(&required, &[]),
            "cannot use the in-cluster context \"in-cluster\": \
             KUBERNETES_SERVICE_HOST is not set (not in a pod?)"
        );
        let empty = service_account(&[]);
        assert_eq!(
            error(&options(InClusterMode::Required, empty.path()), &POD),
            format!(
                "cannot use the in-cluster context \"in-cluster\": cannot read {}: \
                 No such file or directory (os error 2)",
                empty.path().join("token").display()
            )
        );
    }

    #[test]
    fn a_pod_without_a_usable_ca_or_token_is_an_error() {
        for (files, expected) in [
            (
                &[("token", "jwt")][..],
                "cannot read {dir}/ca.crt: No such file or directory (os error 2)",
            ),
            (
                &[("token", "jwt"), ("ca.crt", "not a certificate")][..],
                "cannot read {dir}/ca.crt: no PEM certificate in it",
            ),
            (
                &[("token", " \n"), ("ca.crt", CA)][..],
                "{dir}/token is empty",
            ),
        ] {
            let dir = service_account(files);
            let expected = expected.replace("{dir}", &dir.path().display().to_string());
            assert_eq!(
                error(&options(InClusterMode::Auto, dir.path()), &POD),
                format!("cannot use the in-cluster context \"in-cluster\": {expected}")
            );
        }
    }

    #[test]
    fn a_configured_http_url_needs_no_ca_nor_service_variables() {
        let dir = service_account(&[("token", "jwt")]);
        let options = InClusterOptions {
            api_url: Some("http://127.0.0.1:8001".into()),
            ..options(InClusterMode::Required, dir.path())
        };
        let config = config(&options, env(&[])).unwrap().expect("required");
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:8001/");
        assert_eq!(config.default_namespace, "default");
        assert_eq!(config.root_cert, None);
        assert_eq!(config.root_cert_file, None);
        assert!(config.auth_info.token_file.is_some());
    }

    #[test]
    fn a_configured_url_must_be_http_or_https() {
        let dir = service_account(&[("token", "jwt")]);
        for (url, reason) in [
            ("ftp://10.0.0.1", "not an http:// or https:// URL"),
            ("10.0.0.1:443", "not an http:// or https:// URL"),
            ("http://", ""),
        ] {
            let options = InClusterOptions {
                api_url: Some(url.into()),
                ..options(InClusterMode::Required, dir.path())
            };
            let message = error(&options, &[]);
            assert!(
                message.starts_with(&format!(
                    "cannot use the in-cluster context \"in-cluster\": invalid API server URL {url:?}: "
                )),
                "{message}"
            );
            assert!(message.contains(reason), "{url}: {message}");
        }
    }
}
