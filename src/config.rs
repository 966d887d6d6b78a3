//! The configuration file `t2t-notify.toml`: strict parsing, `T2T_NOTIFY_*` overrides, and
//! validation into a [`Config`] the rest of the program can trust.
//!
//! Two stages, like the command line: serde reads the raw file (unknown keys are an error that
//! names the key), then [`Config::validate`] checks values that serde cannot (GUIDs, URLs,
//! addresses) and resolves relative paths against the config file's folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::inputs::address;

mod link_domains;

/// Prefix of the environment variables that override config keys: `T2T_NOTIFY_PACING_PER_MINUTE=10`.
pub const ENV_PREFIX: &str = "T2T_NOTIFY_";
/// Environment variables with the prefix that are not config keys.
const ENV_RESERVED: &[&str] = &["CONFIG", "LOG", "DASHBOARD_TOKEN"];
const SECTIONS: &[&str] = &[
    "organization",
    "source",
    "target",
    "message",
    "transport",
    "pacing",
    "ledger",
    "notify",
    "trust",
    "inputs",
    "serve",
    "dashboard",
];

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub organization: OrganizationSettings,
    pub source: Tenant,
    pub target: Tenant,
    pub message: Message,
    #[serde(default)]
    pub transport: Transport,
    #[serde(default)]
    pub pacing: Pacing,
    #[serde(default)]
    pub ledger: LedgerSettings,
    #[serde(default)]
    pub notify: Notify,
    #[serde(default)]
    pub trust: TrustSettings,
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default)]
    pub serve: ServeSettings,
    #[serde(default)]
    pub dashboard: DashboardSettings,
    /// `[[campaign]]` tables: the conversation's campaigns. None: one post-move campaign.
    #[serde(default, rename = "campaign")]
    pub campaigns: Vec<crate::campaign::CampaignConfig>,
    /// The campaign this command runs ([`Config::for_campaign`]; not a key).
    #[serde(skip)]
    pub active: crate::campaign::Campaign,
    /// Where the file was read from (not a key).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[organization]`: who the notice comes from, and where people get help.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSettings {
    pub name: String,
    pub helpdesk: String,
    /// The organisation of the source tenant, named in guests' notices (their guest account
    /// lived there); without it those notices do not name it.
    pub source_name: Option<String>,
}

/// `[source]` and `[target]`: one tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub tenant_id: String,
    /// Cross-tenant host URLs, one per geography (`Get-SPOCrossTenantHostUrl`).
    pub host_urls: Vec<String>,
    /// The day the tenant's licences expire (trust removal stops working on the source after it).
    #[serde(default, deserialize_with = "date_or_string")]
    pub licenses_expire: Option<chrono::NaiveDate>,
}

/// Who receives the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RecipientMode {
    /// Column 5 of the mapping: the target user's email.
    #[default]
    TargetEmail,
    /// Column 3: the old (source) UPN, which still receives mail until the source is retired.
    SourceUpn,
    /// Both addresses in `To`.
    Both,
}

/// `[message]`: sender, recipients, templates and the link check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub from: String,
    pub reply_to: Option<String>,
    #[serde(default)]
    pub recipient: RecipientMode,
    #[serde(default = "default_templates")]
    pub templates: PathBuf,
    #[serde(default = "default_locale")]
    pub default_locale: String,
    #[serde(default)]
    pub allowed_link_domains: Vec<String>,
}

/// `[inputs]`: the files every command reads when the command line names none, so that
/// `validate`, `preview` and `send` use the same ones. Relative to the config file's folder.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub mapping: Option<PathBuf>,
    pub directory: Option<PathBuf>,
    #[serde(default)]
    pub move_state: Vec<PathBuf>,
    /// Migration schedules (source UPN, planned start), for `pre-move` campaigns.
    #[serde(default)]
    pub schedule: Vec<PathBuf>,
}

/// `[serve]`: how `t2t-notify serve` runs its campaigns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeSettings {
    /// How often every campaign's audience is looked at for people due.
    pub poll_seconds: u64,
    /// The inbox folder: move-state exports, schedules, sign-in exports and trust evidence
    /// dropped into it are checked and taken at each poll (`serve::inbox`). None: no inbox.
    pub inbox: Option<PathBuf>,
    /// Fetch the sign-in evidence from Graph (as `sign-ins --graph`) every this many hours.
    /// None: only what arrives in the inbox or by `sign-ins`.
    pub sign_ins_refresh_hours: Option<u32>,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            poll_seconds: 60,
            inbox: None,
            sign_ins_refresh_hours: None,
        }
    }
}

/// `[dashboard]`: the web page and JSON API of `t2t-notify serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardSettings {
    /// Serve the dashboard at all.
    pub enabled: bool,
    /// The address and port to listen on. Anything but a loopback address needs `tls_cert`,
    /// `tls_key` and the token variable.
    pub listen: String,
    /// The environment variable holding the token that the API and the sign-in page ask for.
    pub token_env: String,
    /// PEM certificate chain and private key for HTTPS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The dashboard's default port: 8750 on 127.0.0.1.
pub const DASHBOARD_LISTEN: &str = "127.0.0.1:8750";

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            enabled: true,
            listen: DASHBOARD_LISTEN.into(),
            token_env: "T2T_NOTIFY_DASHBOARD_TOKEN".into(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `[trust]`: how recent the trust evidence must be for the gate to count it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSettings {
    /// Evidence checked longer ago than this many days no longer opens the gate.
    pub max_evidence_age_days: u32,
}

impl Default for TrustSettings {
    fn default() -> Self {
        TrustSettings {
            max_evidence_age_days: 30,
        }
    }
}

/// Which transport carries the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    #[default]
    File,
    Smtp,
    Graph,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    #[default]
    Starttls,
    Tls,
    None,
}

/// How the SMTP client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpAuth {
    #[default]
    None,
    Login,
    Plain,
    Xoauth2,
}

/// `[transport]`: the keys of every transport kind; each kind checks the ones it needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Transport {
    pub kind: TransportKind,
    /// `file`: the folder that receives one `.eml` per message.
    pub dir: PathBuf,
    // smtp
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Security,
    pub auth: SmtpAuth,
    pub username: Option<String>,
    /// Name of the environment variable that holds the SMTP password.
    pub password_env: Option<String>,
    pub ca_file: Option<PathBuf>,
    // OAuth2 (graph, and smtp with xoauth2)
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// Name of the environment variable that holds the client secret.
    pub client_secret_env: Option<String>,
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    pub authority: String,
    // graph
    pub sender: Option<String>,
    pub graph_url: String,
    pub save_to_sent_items: bool,
    // every kind
    /// Attempts per message within one run before a transient failure becomes `deferred`.
    pub max_attempts: u32,
    /// Seconds to wait for one server reply.
    pub timeout_secs: u64,
    /// When this many first attempts of a run are all refused permanently with the same
    /// enhanced status code, the run stops: a setting is wrong, not every mailbox. 0: never.
    pub stop_after_same_permanent_failures: u32,
}

/// `[pacing]`: the mailbox's limits. `0` turns a limit off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pacing {
    pub per_minute: u32,
    pub per_day: u32,
    pub concurrency: u32,
}

/// `[ledger]`: the SQLite file that remembers what was sent and what the trust evidence said.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerSettings {
    pub path: PathBuf,
}

/// `[notify]`: where the admin summary goes after every `send`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    pub webhook_url: Option<String>,
    pub admin_email: Option<String>,
    /// Where the JSON summary file is written (default: next to the ledger).
    pub summary_dir: Option<PathBuf>,
}

fn default_templates() -> PathBuf {
    PathBuf::from("templates")
}
fn default_locale() -> String {
    "en".into()
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            kind: TransportKind::File,
            dir: PathBuf::from("outbox"),
            host: None,
            port: None,
            security: Security::Starttls,
            auth: SmtpAuth::None,
            username: None,
            password_env: None,
            ca_file: None,
            tenant_id: None,
            client_id: None,
            client_secret_env: None,
            certificate: None,
            private_key: None,
            authority: "https://login.microsoftonline.com".into(),
            sender: None,
            graph_url: "https://graph.microsoft.com".into(),
            save_to_sent_items: false,
            max_attempts: 4,
            timeout_secs: 60,
            stop_after_same_permanent_failures: 10,
        }
    }
}
impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            per_minute: 30,
            per_day: 10_000,
            concurrency: 3,
        }
    }
}
impl Default for LedgerSettings {
    fn default() -> Self {
        LedgerSettings {
            path: PathBuf::from("t2t-notify.db"),
        }
    }
}

fn date_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<chrono::NaiveDate>, D::Error> {
    let Some(value) = Option::<toml::Value>::deserialize(d)? else {
        return Ok(None);
    };
    let text = match value {
        toml::Value::String(s) => s,
        toml::Value::Datetime(dt) => dt.to_string(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a date like \"2027-01-31\", found {}",
                other.type_str()
            )))
        }
    };
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a date like 2027-01-31")))
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the config file: {source}; pass --config PATH (see sample-data/t2t-notify.toml for a commented example)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}{overrides}")]
    Parse {
        path: PathBuf,
        message: String,
        overrides: String,
    },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("{path}: {}", problems.join("\n  "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

impl Config {
    /// Reads, overrides from the environment, and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let env = prefixed_env(std::env::vars_os())?;
        Config::from_str_with_env(&text, path, &env)
    }

    /// Parses `text` as if read from `path`, applying the given `T2T_NOTIFY_*` variables.
    pub fn from_str_with_env(
        text: &str,
        path: &Path,
        env: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let parse_error = |e: toml::de::Error, overrides: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
            overrides,
        };
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| parse_error(e, String::new()))?;
        let applied = apply_env_overrides(&mut table, env)?;
        let overrides = if applied.is_empty() {
            String::new()
        } else {
            format!(" (after applying {})", applied.join(", "))
        };
        let mut config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| parse_error(e, overrides))?;
        config.path = path.to_path_buf();
        config.resolve_paths();
        config.validate()?;
        Ok(config)
    }

    /// Resolves relative paths in the file against the config file's folder.
    fn resolve_paths(&mut self) {
        let base = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.message.templates);
        resolve(&mut self.ledger.path);
        resolve(&mut self.transport.dir);
        for p in [
            &mut self.transport.ca_file,
            &mut self.transport.certificate,
            &mut self.transport.private_key,
            &mut self.notify.summary_dir,
            &mut self.serve.inbox,
            &mut self.dashboard.tls_cert,
            &mut self.dashboard.tls_key,
            &mut self.inputs.mapping,
            &mut self.inputs.directory,
        ]
        .into_iter()
        .flatten()
        {
            resolve(p);
        }
        self.inputs.move_state.iter_mut().for_each(resolve);
        self.inputs.schedule.iter_mut().for_each(resolve);
        for c in &mut self.campaigns {
            let transport = c.transport.as_mut();
            let paths = [c.templates.as_mut()]
                .into_iter()
                .chain(transport.into_iter().flat_map(|t| {
                    [
                        Some(&mut t.dir),
                        t.ca_file.as_mut(),
                        t.certificate.as_mut(),
                        t.private_key.as_mut(),
                    ]
                }));
            paths.flatten().for_each(resolve);
        }
    }

    /// This config as the campaign `name` sees it: its templates, recipient rule, sender,
    /// transport and pacing in place of the top-level ones, and [`Config::active`] set.
    pub fn for_campaign(
        &self,
        name: Option<&str>,
    ) -> Result<Config, crate::campaign::CampaignError> {
        let active = crate::campaign::select(&self.campaigns, name)?;
        let mut config = self.clone();
        if let Some(c) = self.campaigns.iter().find(|c| c.name == active.name) {
            let m = &mut config.message;
            m.templates = c.templates.clone().unwrap_or_else(|| m.templates.clone());
            m.recipient = match (c.recipient, c.kind) {
                (Some(r), _) => r,
                (None, crate::campaign::Kind::PreMove) => RecipientMode::SourceUpn,
                (None, _) => m.recipient,
            };
            m.from = c.from.clone().unwrap_or_else(|| m.from.clone());
            m.reply_to = c.reply_to.clone().or_else(|| m.reply_to.clone());
            config.transport = c.transport.clone().unwrap_or(config.transport);
            config.pacing = c.pacing.clone().unwrap_or(config.pacing);
        }
        config.active = active;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        for (side, tenant) in [("source", &self.source), ("target", &self.target)] {
            if !address::is_guid(&tenant.tenant_id) {
                problems.push(format!(
                    "[{side}] tenant_id `{}` is not a GUID; copy the tenant ID from the Entra admin center (Overview) or (Get-MgOrganization).Id",
                    tenant.tenant_id
                ));
            }
            if tenant.host_urls.is_empty() {
                problems.push(format!(
                    "[{side}] host_urls is empty; add the URL printed by Get-SPOCrossTenantHostUrl on the {side} tenant"
                ));
            }
            for url in &tenant.host_urls {
                if let Err(why) = check_host_url(url) {
                    problems.push(format!("[{side}] host_urls: `{url}` {why}"));
                }
            }
        }
        if self
            .source
            .tenant_id
            .eq_ignore_ascii_case(&self.target.tenant_id)
        {
            problems.push("[source] and [target] have the same tenant_id; the source is the tenant users move from, the target the one they move to".into());
        }
        if let Err(why) = address::parse_mailbox(&self.message.from) {
            problems.push(format!(
                "[message] from `{}`: {why}; write it as \"Name <address@domain>\"",
                self.message.from
            ));
        }
        if let Some(reply_to) = &self.message.reply_to {
            if let Err(why) = address::parse_mailbox(reply_to) {
                problems.push(format!("[message] reply_to `{reply_to}`: {why}"));
            }
        }
        for domain in &self.message.allowed_link_domains {
            if let Err(why) = link_domains::check(domain) {
                problems.push(format!("[message] allowed_link_domains: `{domain}` {why}"));
            }
        }
        if self.trust.max_evidence_age_days == 0 {
            problems.push(
                "[trust] max_evidence_age_days must be at least 1 (the default is 30)".into(),
            );
        }
        if self.serve.poll_seconds == 0 {
            problems.push("[serve] poll_seconds must be at least 1 (the default is 60)".into());
        }
        if self
            .dashboard
            .listen
            .parse::<std::net::SocketAddr>()
            .is_err()
        {
            problems.push(format!(
                "[dashboard] listen `{}` is not an address and port; write it like \"{DASHBOARD_LISTEN}\"",
                self.dashboard.listen
            ));
        }
        if self.dashboard.tls_cert.is_some() != self.dashboard.tls_key.is_some() {
            problems.push(
                "[dashboard] tls_cert and tls_key go together: give both (PEM files) or neither"
                    .into(),
            );
        }
        if self.pacing.concurrency == 0 {
            problems.push("[pacing] concurrency must be at least 1".into());
        }
        if self.transport.max_attempts == 0 {
            problems.push("[transport] max_attempts must be at least 1".into());
        }
        problems.extend(crate::campaign::check(&self.campaigns));
        problems.extend(self.campaign_problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid {
                path: self.path.clone(),
                problems,
            })
        }
    }

    /// What [`Config::validate`] checks of the top-level sender, transport and pacing, checked for
    /// each campaign's own.
    fn campaign_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, c) in self.campaigns.iter().enumerate() {
            let at = format!("[[campaign]] {} (`{}`)", i + 1, c.name);
            for (field, value) in [("from", &c.from), ("reply_to", &c.reply_to)] {
                if let Some(Err(why)) = value.as_deref().map(address::parse_mailbox) {
                    problems.push(format!(
                        "{at}: {field} `{}`: {why}",
                        value.as_deref().unwrap_or_default()
                    ));
                }
            }
            if c.pacing.as_ref().is_some_and(|p| p.concurrency == 0) {
                problems.push(format!(
                    "{at}: [campaign.pacing] concurrency must be at least 1"
                ));
            }
            if c.transport.as_ref().is_some_and(|t| t.max_attempts == 0) {
                problems.push(format!(
                    "{at}: [campaign.transport] max_attempts must be at least 1"
                ));
            }
        }
        problems
    }

    /// The mailbox this config sends from, whose day budget its messages spend: the `from`
    /// address in lower case (Exchange counts per sending mailbox).
    pub fn sending_mailbox(&self) -> String {
        address::parse_mailbox(&self.message.from)
            .map(|m| m.email.to_string().to_lowercase())
            .unwrap_or_else(|_| self.message.from.trim().to_lowercase())
    }

    /// Every configured host URL of one side, normalised (lower case, trailing slash).
    pub fn host_urls(&self, side: Side) -> Vec<String> {
        let tenant = match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        };
        tenant
            .host_urls
            .iter()
            .map(|u| normalize_host_url(u))
            .collect()
    }
}

/// One of the two tenants (also `trust script --tenant`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Source,
    Target,
}

impl Side {
    /// The other tenant.
    pub fn partner(self) -> Side {
        match self {
            Side::Source => Side::Target,
            Side::Target => Side::Source,
        }
    }
    /// `source` or `target`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }
}

/// Lower-cases a host URL and gives it exactly one trailing slash, so evidence written by
/// PowerShell compares equal to the config however it was typed.
///
/// ```
/// use t2t_notify::config::normalize_host_url;
/// assert_eq!(normalize_host_url("HTTPS://Contoso-my.SharePoint.com"), "https://contoso-my.sharepoint.com/");
/// ```
pub fn normalize_host_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    format!("{}/", trimmed.to_ascii_lowercase())
}

/// A host URL as `Get-SPOCrossTenantHostUrl` prints it: `https://<host>/`, written out in full
/// (the URL parser forgives `https:/host` and `https:\\host`, but the notices and the trust
/// evidence use the text as written).
fn check_host_url(url: &str) -> Result<(), HostUrlError> {
    let text = url.trim();
    let parsed = url::Url::parse(text).map_err(HostUrlError::NotAUrl)?;
    let written_https = text
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"));
    if parsed.scheme() != "https" || !written_https {
        return Err(HostUrlError::NotHttps);
    }
    let Some(host) = parsed.host_str() else {
        return Err(HostUrlError::NoHost);
    };
    if host.split('.').any(str::is_empty) {
        return Err(HostUrlError::EmptyHostPart(host.to_string()));
    }
    let plain = parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if !plain {
        return Err(HostUrlError::NotPlain);
    }
    Ok(())
}

/// Why a `host_urls` entry is not a host URL as `Get-SPOCrossTenantHostUrl` prints it.
#[derive(Debug, thiserror::Error)]
enum HostUrlError {
    #[error("is not a URL ({0})")]
    NotAUrl(#[source] url::ParseError),
    #[error("must start with https://")]
    NotHttps,
    #[error("has no host name")]
    NoHost,
    #[error("host name `{0}` has an empty part (two dots in a row, or a dot at an end)")]
    EmptyHostPart(String),
    #[error("must be the host URL, like https://contoso-my.sharepoint.com/ (no query, fragment or user name)")]
    NotPlain,
}

/// The `T2T_NOTIFY_*` variables among `vars`. Other variables are not looked at, so one that is
/// not UTF-8 (which `std::env::vars` panics on) cannot stop the program; one of ours is an error.
fn prefixed_env(
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut env = Vec::new();
    for (name, value) in vars {
        if !name.as_encoded_bytes().starts_with(ENV_PREFIX.as_bytes()) {
            continue;
        }
        let shown = name.to_string_lossy().into_owned();
        match (name.into_string(), value.into_string()) {
            (Ok(name), Ok(value)) => env.push((name, value)),
            _ => {
                return Err(ConfigError::Env {
                    name: shown,
                    message: "is not valid UTF-8; set it to plain text or unset it".into(),
                })
            }
        }
    }
    Ok(env)
}

/// Applies `T2T_NOTIFY_<SECTION>_<KEY>=value` to the parsed table. Values are read as TOML
/// (`30`, `true`, `["a", "b"]`) and fall back to a plain string.
fn apply_env_overrides(
    table: &mut toml::Table,
    env: &[(String, String)],
) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    let mut sorted: Vec<&(String, String)> = env.iter().collect();
    sorted.sort();
    for (name, raw) in sorted {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if ENV_RESERVED.contains(&rest) {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let Some((section, key)) = SECTIONS.iter().find_map(|s| {
            lower
                .strip_prefix(s)
                .and_then(|k| k.strip_prefix('_'))
                .filter(|k| !k.is_empty())
                .map(|k| (*s, k))
        }) else {
            return Err(ConfigError::Env {
                name: name.clone(),
                message: format!(
                    "not a config key; write T2T_NOTIFY_<SECTION>_<KEY> with SECTION one of {}",
                    SECTIONS.join(", ").to_ascii_uppercase()
                ),
            });
        };
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(ConfigError::Env {
                name: name.clone(),
                message: format!("[{section}] in the file is not a table"),
            });
        };
        section_table.insert(key.to_string(), env_value(raw));
        applied.push(name.clone());
    }
    Ok(applied)
}

fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests;
