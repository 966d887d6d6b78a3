//! Turns one recipient into the exact message that is previewed and sent: the Handlebars
//! templates (strict mode) in the person's locale, the link check, and the MIME message built
//! with lettre. Pure: recipient in, bytes out; `preview` and `send` share it, so what an admin
//! previews is byte for byte what goes out (but the `Date` header).
//!
//! Files: `registry` (templates, per campaign kind), `locale` (choice), `context` (template
//! data), `dates` (dates written out per language), `message` (MIME, with lettre's builder),
//! `wrap` (text part line length), `links` (link check), `gallery` (the preview's index page,
//! and the HTML escaper every page of ours uses).

pub mod context;
pub mod dates;
pub mod fallbacks;
pub mod gallery;
pub mod links;
pub mod locale;
pub mod message;
pub mod registry;
pub mod wrap;

use std::time::SystemTime;

use handlebars::RenderErrorReason;
use lettre::message::Mailbox;
use lettre::Address;

use crate::campaign::Kind;
use crate::config::Config;
use crate::plan::Recipient;
use crate::transport::Envelope;
use links::{AllowedHosts, LinkError};
use registry::{Registry, TemplateProblem};

/// Why a renderer could not be built or a notice could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the templates cannot be used:\n  {}", registry::lines(.0))]
    Templates(Vec<TemplateProblem>),
    #[error("[message].default_locale `{locale}` has no complete folder in {dir} (locales found: {found}); set default_locale to one of them")]
    DefaultLocale {
        locale: String,
        dir: String,
        found: String,
    },
    #[error("[message] {field} `{value}`: {why}")]
    Sender {
        field: &'static str,
        value: String,
        #[source]
        why: crate::inputs::address::AddressError,
    },
    #[error("template {template}, line {line}: {message}")]
    Template {
        template: String,
        line: String,
        message: String,
        #[source]
        source: Box<handlebars::RenderError>,
    },
    /// `source` is none when there is no address at all.
    #[error("`{value}` is not a usable recipient address ({})", match source {
        Some(e) => e.to_string(),
        None => "no recipient address".into(),
    })]
    Address {
        value: String,
        source: Option<lettre::address::AddressError>,
    },
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
}

/// Everything about one rendered notice.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Stable per (campaign, lower-case source UPN, test or not): `<hex@from-domain>`.
    pub message_id: String,
    pub subject: String,
    pub locale: String,
    /// `from` = `[message].from` address, `to` = the recipients (or the test addresses).
    pub envelope: Envelope,
    /// The complete RFC 5322 message, exactly what is sent.
    pub bytes: Vec<u8>,
    pub text: String,
    pub html: String,
    /// `template <name>: <url>: <why>`; `send` refuses to send when this is not empty.
    pub link_errors: Vec<LinkError>,
}

impl Rendered {
    /// sha256 over what does not change between renders (headers but `Date`, text, HTML): the
    /// ledger's content hash. Computed on demand, since `preview` has no use for it.
    pub fn content_sha256(&self) -> String {
        message::content_sha256(&self.bytes, &self.text, &self.html)
    }
}

/// A notice with its templates filled in and its links checked, before the MIME message.
#[derive(Debug, Clone)]
pub struct NoticeDraft {
    pub message_id: String,
    pub subject: String,
    pub locale: String,
    /// The recipients (or the test addresses).
    pub to: Vec<Mailbox>,
    pub text: String,
    pub html: String,
    /// As in [`Rendered::link_errors`].
    pub link_errors: Vec<LinkError>,
}

/// The templates, sender and allowed link hosts, built once from the config.
pub struct Renderer {
    /// The kind of the campaign rendered: picks the templates and the allowed link hosts.
    kind: Kind,
    registry: Registry,
    allowed: AllowedHosts,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    from_domain: String,
    default_locale: String,
    organization: crate::config::OrganizationSettings,
}

impl Renderer {
    /// Loads the templates of the active campaign's kind from `[message].templates` and checks
    /// the sender and default locale.
    pub fn new(config: &Config) -> Result<Renderer, RenderError> {
        let kind = config.active.kind();
        let dir = &config.message.templates;
        let registry = registry::load(dir, kind).map_err(RenderError::Templates)?;
        let default_locale = config.message.default_locale.clone();
        if !registry.locales.contains(&default_locale) {
            return Err(RenderError::DefaultLocale {
                locale: default_locale,
                dir: registry::locale_dir(dir, &registry.root)
                    .display()
                    .to_string(),
                found: registry
                    .locales
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let from = sender("from", &config.message.from)?;
        let reply_to = config
            .message
            .reply_to
            .as_deref()
            .map(|r| sender("reply_to", r))
            .transpose()?;
        Ok(Renderer {
            kind,
            registry,
            allowed: allowed_hosts_for(config, kind),
            from_domain: from.email.domain().to_string(),
            from,
            reply_to,
            default_locale,
            organization: config.organization.clone(),
        })
    }

    /// Renders the notice for `r` now. `to_override` replaces the recipients (`send --test-to`).
    pub fn render(
        &self,
        r: &Recipient,
        campaign: &str,
        to_override: Option<&[String]>,
    ) -> Result<Rendered, RenderError> {
        self.render_at(r, campaign, to_override, SystemTime::now())
    }

    /// Renders with a given `Date` (snapshot tests).
    pub fn render_at(
        &self,
        r: &Recipient,
        campaign: &str,
        to_override: Option<&[String]>,
        date: SystemTime,
    ) -> Result<Rendered, RenderError> {
        let draft = self.draft(r, campaign, to_override)?;
        self.finish(draft, date)
    }

    /// The first half of [`Renderer::render`]: the templates filled in and the links checked,
    /// without the MIME message ([`Renderer::finish`] builds it, e.g. later, on another thread).
    pub fn draft(
        &self,
        r: &Recipient,
        campaign: &str,
        to_override: Option<&[String]>,
    ) -> Result<NoticeDraft, RenderError> {
        let mut draft = self.fill(r, campaign, to_override)?;
        draft.link_errors =
            self.check_links(&draft.locale, &draft.subject, &draft.text, &draft.html);
        Ok(draft)
    }

    /// [`Renderer::draft`] without the link check, for a notice whose draft already passed it
    /// in this run: rendering is deterministic (only `Date`, set by [`Renderer::finish`],
    /// changes), so the same person's notice renders to the same text again.
    pub fn fill(
        &self,
        r: &Recipient,
        campaign: &str,
        to_override: Option<&[String]>,
    ) -> Result<NoticeDraft, RenderError> {
        let (locale, _) = self.locale_of(r);
        let data = context::Data {
            recipient: context::recipient(r),
            organization: context::OrganizationData::new(
                &self.organization.name,
                &self.organization.helpdesk,
                self.organization.source_name.as_deref(),
            ),
            sender: context::Sender {
                name: self.from.name.as_deref(),
                address: self.from.email.to_string(),
            },
            links: context::Links {
                app_launcher: context::APP_LAUNCHER,
                onedrive: &r.onedrive_url,
            },
            locale: &locale,
            campaign,
            campaign_kind: self.kind.as_str(),
            move_: context::MoveData::new(r.planned_start, &locale),
            reminder: context::ReminderData { number: r.reminder },
        };
        let value = serde_json::to_value(&data).map_err(|e| {
            template_error(
                &self.registry.name(&locale, "subject"),
                RenderErrorReason::SerdeError(e).into(),
            )
        })?;
        let [subject, text, html] = self.fill_all(&locale, value)?;
        let subject = message::clean_line(&subject);
        let text = wrap::wrap(&text, wrap::WIDTH);
        let to = self.recipients(r, data.recipient.name.as_deref(), to_override)?;
        // Each reminder is a message of its own: the number is part of its Message-ID.
        let campaign = match r.reminder {
            Some(n) => format!("{campaign}#{n}"),
            None => campaign.to_string(),
        };
        let message_id = message::message_id(
            &campaign,
            &r.user.source_upn,
            to_override.is_some(),
            &self.from_domain,
        );
        Ok(NoticeDraft {
            message_id,
            subject,
            locale,
            to,
            text,
            html,
            link_errors: Vec::new(),
        })
    }

    /// The second half of [`Renderer::render`]: the MIME message of a draft, dated `date`.
    pub fn finish(&self, d: NoticeDraft, date: SystemTime) -> Result<Rendered, RenderError> {
        let bytes = message::build(&message::Parts {
            from: &self.from,
            reply_to: self.reply_to.as_ref(),
            to: d.to.clone(),
            subject: &d.subject,
            message_id: &d.message_id,
            date,
            text: &d.text,
            html: &d.html,
            content_language: &d.locale,
        })?;
        Ok(Rendered {
            envelope: Envelope {
                from: self.from.email.to_string(),
                to: d.to.iter().map(|m| m.email.to_string()).collect(),
            },
            message_id: d.message_id,
            subject: d.subject,
            locale: d.locale,
            bytes,
            text: d.text,
            html: d.html,
            link_errors: d.link_errors,
        })
    }

    /// The locale `r`'s notice is rendered in, and why when it is the default instead of
    /// their PreferredLanguage.
    pub fn locale_of(&self, r: &Recipient) -> (String, Option<locale::Fallback>) {
        let (used, why) = locale::choose_why(
            r.preferred_language(),
            &self.registry.locales,
            &self.default_locale,
        );
        (used.to_string(), why)
    }

    /// The hosts links may point to.
    pub fn allowed_hosts(&self) -> &AllowedHosts {
        &self.allowed
    }

    /// Subject, text and HTML rendered by Handlebars from one template context.
    fn fill_all(&self, locale: &str, value: serde_json::Value) -> Result<[String; 3], RenderError> {
        let context = handlebars::Context::from(value);
        let fill = |hb: &handlebars::Handlebars, part: &str| {
            let template = self.registry.name(locale, part);
            hb.render_with_context(&template, &context)
                .map_err(|e| template_error(&template, e))
        };
        let (text, html) = (&self.registry.text, &self.registry.html);
        Ok([
            fill(text, "subject")?,
            fill(text, "text")?,
            fill(html, "html")?,
        ])
    }

    fn check_links(&self, locale: &str, subject: &str, text: &str, html: &str) -> Vec<LinkError> {
        let mut problems = Vec::new();
        let parts = [
            ("subject", links::urls_in_text(subject)),
            ("text", links::urls_in_text(text)),
            ("html", links::urls_in_html(html)),
        ];
        for (part, urls) in parts {
            let template = self.registry.name(locale, part);
            links::check_part(&self.allowed, &template, &urls, &mut problems);
        }
        problems
    }

    fn recipients(
        &self,
        r: &Recipient,
        name: Option<&str>,
        to_override: Option<&[String]>,
    ) -> Result<Vec<Mailbox>, RenderError> {
        let (list, name) = match to_override {
            Some(list) => (list, None),
            None => (r.to.as_slice(), name),
        };
        if list.is_empty() {
            return Err(RenderError::Address {
                value: String::new(),
                source: None,
            });
        }
        list.iter()
            .map(|a| {
                let address: Address = a.trim().parse().map_err(|e| RenderError::Address {
                    value: a.clone(),
                    source: Some(e),
                })?;
                Ok(Mailbox::new(name.map(message::header_name), address))
            })
            .collect()
    }
}

fn sender(field: &'static str, value: &str) -> Result<Mailbox, RenderError> {
    let mut mailbox =
        crate::inputs::address::parse_mailbox(value).map_err(|why| RenderError::Sender {
            field,
            value: value.to_string(),
            why,
        })?;
    mailbox.name = mailbox
        .name
        .map(|n| message::clean_line(&n))
        .filter(|n| !n.is_empty());
    Ok(mailbox)
}

/// Microsoft's hosts, both tenants' host URL domains and `[message].allowed_link_domains`.
pub fn allowed_hosts(config: &Config) -> AllowedHosts {
    let tenant_hosts = host_names(
        config
            .source
            .host_urls
            .iter()
            .chain(&config.target.host_urls),
    );
    AllowedHosts::new(
        tenant_hosts
            .into_iter()
            .chain(config.message.allowed_link_domains.iter().cloned()),
    )
}

/// The hosts the links of a `kind` notice may point to: [`allowed_hosts`], but before the move
/// only the source tenant's hosts, `support.microsoft.com` and `[message].allowed_link_domains`
/// (no sign-in page: people must not sign in to the new tenant before their move).
pub fn allowed_hosts_for(config: &Config, kind: Kind) -> AllowedHosts {
    if kind != Kind::PreMove {
        return allowed_hosts(config);
    }
    let source_hosts = host_names(&config.source.host_urls);
    AllowedHosts::before_move(
        source_hosts
            .into_iter()
            .chain(config.message.allowed_link_domains.iter().cloned()),
    )
}

/// The host names of tenant host URLs (`https://contoso-my.sharepoint.com/`).
fn host_names<'a>(urls: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    urls.into_iter()
        .filter_map(|u| Some(url::Url::parse(u.trim()).ok()?.host_str()?.to_string()))
        .collect()
}

fn template_error(template: &str, e: handlebars::RenderError) -> RenderError {
    let message = match e.reason() {
        RenderErrorReason::MissingVariable(Some(name)) => format!(
            "`{name}` is not a known variable (strict mode); check the spelling, or see templates/README.md for the names templates can use"
        ),
        reason => reason.to_string(),
    };
    let line = match (e.line_no, e.column_no) {
        (Some(l), Some(c)) => format!("{l}, column {c}"),
        (Some(l), None) => l.to_string(),
        _ => "?".into(),
    };
    RenderError::Template {
        template: e
            .template_name
            .clone()
            .unwrap_or_else(|| template.to_string()),
        line,
        message,
        source: Box::new(e),
    }
}

#[cfg(test)]
pub(crate) mod tests;
