//! Firmware PULL: the package downloaded from the Package URI (/5/0/1;
//! OMA-TS-LightweightM2M_Core 1.1 Appendix E.6) as scheduled steps
//! interleaved with normal serving (SPEC §1 guarantee 8).
//!
//! When the Firmware Update object ([`crate::objects::Firmware`]) is
//! Downloading from a URI, the engine opens a link of its own to the file
//! server ([`Event::Open`], `coaps` with the credentials of a Security
//! instance whose URI names the same host) and fetches the file with GET and
//! Block2 (RFC 7959 §2.4), one Confirmable request at a time through the
//! link's CoAP endpoint, which retransmits them. Each block goes straight to
//! the application's [`crate::objects::FirmwareApp::write`]; nothing is
//! buffered here. Nothing waits: a block is one request, its response one
//! datagram, and the other links are served in between.
//!
//! - A lost connection (every retransmission unanswered, a reset, a 5.xx,
//!   the driver's [`super::Client::link_failed`]) closes the link; after a
//!   back-off that doubles with each consecutive failure the download
//!   resumes on a new link from the next block. After
//!   [`DownloadPolicy::max_retries`] consecutive failures it ends with Update
//!   Result 4 (connection lost).
//! - Every block must carry the ETag of the first (RFC 7959 §2.4, RFC 7252
//!   §5.10.6): a different one means the file changed, and the download
//!   starts over from byte 0.
//! - The download's URI, offset and ETag live in the Firmware object
//!   ([`crate::objects::Firmware::download_state`]); restored into a new
//!   client they resume the download where it stopped.
//! - A 4.xx answer from the file server sets Update Result 7 (invalid URI);
//!   a file larger than [`DownloadPolicy::max_size`] sets 2 (not enough
//!   flash).
//!
//! Update (/5/0/2) is applied here too: on the step after the one that saw
//! it executed, so that the Execute's 2.04 has gone out first.

use alloc::string::String;
use alloc::vec::Vec;

use super::Client;
use super::event::{Event, LinkId, ServerUri};
use super::link::Role;
use crate::coap::block_client::{Block2FetchError, Block2Fetcher};
use crate::coap::{Code, Message, Token, option};
use crate::dm::oids::FIRMWARE_UPDATE;
use crate::dm::{Object, Path, Registry};
use crate::objects::firmware::{DownloadState, Firmware, UpdateResult};
use crate::objects::uri::{self as suri, Scheme};
use crate::time::{Duration, Instant};

/// How PULL downloads behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadPolicy {
    /// Preferred block size exponent (2^(szx+4) bytes, 0..=6); the file
    /// server may choose smaller blocks.
    pub block_szx: u8,
    /// Consecutive connection failures survived; one more ends the
    /// download with Update Result 4. Also bounds restarts after ETag
    /// changes.
    pub max_retries: u8,
    /// Back-off before the first resumption; doubles each time.
    pub backoff: Duration,
    /// Longest back-off.
    pub max_backoff: Duration,
    /// Largest package accepted (Update Result 2 beyond it).
    pub max_size: usize,
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        DownloadPolicy {
            block_szx: 6,
            max_retries: 5,
            backoff: Duration::from_secs(4),
            max_backoff: Duration::from_secs(120),
            max_size: usize::MAX,
        }
    }
}

impl DownloadPolicy {
    /// The back-off after `failures` consecutive failures (≥ 1).
    fn backoff_after(&self, failures: u8) -> Duration {
        let shift = u32::from(failures.saturating_sub(1)).min(16);
        self.backoff
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Where the file is, split for CoAP.
#[derive(Clone, Debug)]
struct Source {
    uri: ServerUri,
    /// Uri-Host, for a host given by name (RFC 7252 §6.4 step 5).
    host: Option<String>,
    segments: Vec<Vec<u8>>,
    queries: Vec<Vec<u8>>,
    security_iid: crate::dm::Iid,
}

/// One download in progress.
#[derive(Debug)]
struct Download {
    /// The Package URI it serves.
    package_uri: String,
    source: Source,
    link: Option<LinkId>,
    /// Our GET in flight.
    token: Option<Token>,
    fetch: Block2Fetcher,
    /// The block size exponent asked for.
    szx: u8,
    /// Whether the application's `open` (or `resume`) ran.
    opened: bool,
    failures: u8,
    restarts: u8,
    retry_at: Option<Instant>,
}

/// The engine's download state (a field of [`Client`]).
#[derive(Debug, Default)]
pub(super) struct Downloads {
    policy: DownloadPolicy,
    active: Option<Download>,
    /// Update was seen executed on a step; applied on the next one.
    apply_armed: bool,
}

impl Downloads {
    /// The download link, if one is open.
    fn link(&self) -> Option<LinkId> {
        self.active.as_ref().and_then(|d| d.link)
    }
}

fn firmware(dm: &mut Registry) -> Option<&mut Firmware> {
    let any: &mut dyn core::any::Any = dm.get_mut(FIRMWARE_UPDATE)?;
    any.downcast_mut::<Firmware>()
}

fn firmware_ref(dm: &Registry) -> Option<&Firmware> {
    let any: &dyn core::any::Any = dm.get(FIRMWARE_UPDATE)?;
    any.downcast_ref::<Firmware>()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 §2.1 percent-decoding of one path segment or query item (RFC
/// 7252 §6.4 step 8 and 9).
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hi = hex(it.next()?)?;
            let lo = hex(it.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Splits a Package URI into the link to open and the request's options
/// (RFC 7252 §6.4), or the Update Result that refuses it.
fn source(dm: &Registry, uri: &str, dtls: bool) -> Result<Source, UpdateResult> {
    let u = suri::parse(uri).map_err(|_| UpdateResult::InvalidUri)?;
    let secure = match u.scheme {
        Scheme::Coap => false,
        Scheme::Coaps if dtls => true,
        _ => return Err(UpdateResult::UnsupportedProtocol),
    };
    let (path, query) = match u.rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (u.rest, None),
    };
    let segments = path
        .split('/')
        .skip(1)
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()
        .ok_or(UpdateResult::InvalidUri)?;
    // "/a/" ends in an empty segment, which CoAP carries; a bare "/" or ""
    // is the root, which it does not.
    let segments = match segments.as_slice() {
        [only] if only.is_empty() => Vec::new(),
        _ => segments,
    };
    let queries = match query {
        Some(q) => q
            .split('&')
            .map(percent_decode)
            .collect::<Option<Vec<_>>>()
            .ok_or(UpdateResult::InvalidUri)?,
        None => Vec::new(),
    };
    // Credentials: a Security instance whose server is on the same host.
    let security_iid = if secure {
        crate::objects::security::endpoints(dm)
            .find(|e| {
                suri::parse(&e.uri)
                    .is_ok_and(|s| s.scheme.is_secure() && s.host.eq_ignore_ascii_case(u.host))
            })
            .map(|e| e.iid)
            .ok_or(UpdateResult::UnsupportedProtocol)?
    } else {
        0
    };
    let host = u
        .host
        .parse::<core::net::IpAddr>()
        .is_err()
        .then(|| String::from(u.host));
    Ok(Source {
        host,
        uri: ServerUri {
            secure,
            host: String::from(u.host),
            port: u.port_or_default(),
            path: String::from(u.rest),
        },
        segments,
        queries,
        security_iid,
    })
}

/// The largest block size exponent, at most `szx`, whose blocks end
/// exactly at `offset` (a resumed download asks for the block there).
fn szx_for(offset: u64, szx: u8) -> Option<u8> {
    (0..=szx.min(6))
        .rev()
        .find(|s| offset.is_multiple_of(1u64 << (s + 4)))
}

impl Client {
    /// How PULL downloads behave.
    pub fn download_policy(&self) -> DownloadPolicy {
        self.downloads.policy
    }

    /// Sets how PULL downloads behave (from the next download on).
    pub fn set_download_policy(&mut self, policy: DownloadPolicy) {
        self.downloads.policy = policy;
    }

    /// The link of the firmware download in progress, if open.
    pub fn download_link(&self) -> Option<LinkId> {
        self.downloads.link()
    }

    /// The PULL download in progress, to persist under
    /// `persist::extra_kind::FIRMWARE_DOWNLOAD` (see
    /// [`crate::objects::Firmware::download_state`]).
    pub fn firmware_download_state(&self) -> Option<DownloadState> {
        firmware_ref(&self.dm)?.download_state()
    }

    /// When the download or the firmware update wants a step: at once for
    /// an Update to apply or a download to start (also when the
    /// application asked for them between two inputs), after the back-off
    /// for a download to resume.
    pub(super) fn download_deadline(&self) -> Option<Instant> {
        if self.downloads.apply_armed {
            return Some(self.now);
        }
        if !self.dm.in_session()
            && let Some(fw) = firmware_ref(&self.dm)
            && (fw.update_due() || (self.downloads.active.is_none() && fw.pull_request().is_some()))
        {
            return Some(self.now);
        }
        let d = self.downloads.active.as_ref()?;
        if d.link.is_none() {
            return Some(d.retry_at.unwrap_or(self.now));
        }
        None
    }

    /// One step of the firmware machinery (from every input): tells the
    /// application what the Firmware object raised, notifies its observers,
    /// starts, drives or drops the download, and applies an executed
    /// Update.
    pub(super) fn step_downloads(&mut self, now: Instant) {
        if self.dm.in_session() {
            return;
        }
        self.step_firmware_events();
        let Some(fw) = firmware(&mut self.dm) else {
            self.drop_download();
            self.downloads.apply_armed = false;
            return;
        };
        let update_due = fw.update_due();
        // Allocates only when a download starts.
        let (stop, start) = match (fw.pull_request(), &self.downloads.active) {
            (None, Some(_)) => (true, None),
            (Some(p), Some(d)) if p.uri != d.package_uri => (true, Some(String::from(p.uri))),
            (Some(p), None) => (false, Some(String::from(p.uri))),
            _ => (false, None),
        };
        if stop {
            self.drop_download();
        }
        if let Some(uri) = start {
            self.start_download(now, &uri);
        }
        self.drive_download(now);
        if update_due && self.downloads.apply_armed {
            self.downloads.apply_armed = false;
            if let Some(fw) = firmware(&mut self.dm) {
                fw.perform_update();
            }
            // Report what apply did on this same call.
            self.step_firmware_events();
        } else {
            self.downloads.apply_armed = update_due;
        }
    }

    /// Passes what the Firmware object raised to the application and
    /// notifies its observers.
    fn step_firmware_events(&mut self) {
        while let Some(e) = firmware(&mut self.dm).and_then(|f| f.poll_event()) {
            self.push_event(Event::Object(e));
        }
        let changed = firmware(&mut self.dm).is_some_and(|f| f.take_changed());
        if changed && self.mark_changed(&Path::instance(FIRMWARE_UPDATE, 0)) {
            self.kick = true;
        }
    }

    fn drop_download(&mut self) {
        if let Some(d) = self.downloads.active.take()
            && let Some(l) = d.link
        {
            self.close_link(l);
        }
    }

    /// Ends the download with `result` (Idle).
    fn fail_download(&mut self, result: UpdateResult) {
        self.drop_download();
        if let Some(fw) = firmware(&mut self.dm) {
            fw.pull_failed(result);
        }
        self.step_firmware_events();
    }

    fn start_download(&mut self, now: Instant, package_uri: &str) {
        let dtls = self.config.sessions.is_some();
        let src = match source(&self.dm, package_uri, dtls) {
            Ok(s) => s,
            Err(result) => return self.fail_download(result),
        };
        let mut policy = self.downloads.policy;
        // Blocks no larger than the link's own and than a datagram holds.
        let limits = &self.config.limits.coap;
        policy.block_szx = policy.block_szx.min(limits.block_szx).min(6);
        while policy.block_szx > 0 && (16usize << policy.block_szx) + 64 > limits.max_message_size {
            policy.block_szx -= 1;
        }
        let Some(fw) = firmware(&mut self.dm) else {
            return;
        };
        let (offset, etag) = match fw.pull_request() {
            Some(p) => (p.offset, p.etag.map(<[u8]>::to_vec)),
            None => return,
        };
        let resumed = (offset > 0)
            .then(|| szx_for(offset, policy.block_szx))
            .flatten()
            .and_then(|szx| usize::try_from(offset).ok().map(|o| (szx, o)))
            .filter(|_| fw.pull_resume(offset));
        let (fetch, opened) = match resumed {
            Some((szx, o)) => (
                Block2Fetcher::resume(szx, policy.max_size, o, etag.as_deref()),
                true,
            ),
            None => (Block2Fetcher::new(policy.block_szx, policy.max_size), false),
        };
        self.downloads.active = Some(Download {
            package_uri: String::from(package_uri),
            source: src,
            link: None,
            token: None,
            fetch,
            szx: policy.block_szx,
            opened,
            failures: 0,
            restarts: 0,
            retry_at: Some(now),
        });
    }

    /// Opens the link when due and sends the next GET when none is in
    /// flight.
    fn drive_download(&mut self, now: Instant) {
        let Some(d) = self.downloads.active.as_ref() else {
            return;
        };
        let link = d.link;
        match link.and_then(|l| self.link_index(l)) {
            Some(li) => {
                let Some(l) = self.links.get(li) else {
                    return;
                };
                if l.failed || l.session_failed() {
                    return self.download_lost(now);
                }
                if l.ready() && d.token.is_none() {
                    self.send_block(now, li);
                }
            }
            None if link.is_some() => self.download_lost(now),
            None => {
                if d.retry_at.is_some_and(|t| t > now) {
                    return;
                }
                let (uri, iid) = (d.source.uri.clone(), d.source.security_iid);
                let Some(id) = self.open_link(now, Role::Download, uri, iid) else {
                    return self.download_lost(now);
                };
                if let Some(d) = self.downloads.active.as_mut() {
                    d.link = Some(id);
                    d.retry_at = None;
                }
                if let Some(li) = self.link_index(id)
                    && self.links.get(li).is_some_and(|l| l.ready())
                {
                    self.send_block(now, li);
                }
            }
        }
    }

    /// GET with Block2 for the next block (Size2 asked with block 0, RFC
    /// 7959 §4).
    fn send_block(&mut self, now: Instant, li: usize) {
        let Some(d) = self.downloads.active.as_mut() else {
            return;
        };
        let Some(l) = self.links.get_mut(li) else {
            return;
        };
        let block = d.fetch.next_block();
        let src = &d.source;
        let token = l
            .endpoint
            .request(true, Code::GET, |m| {
                if let Some(h) = &src.host {
                    m.option(option::URI_HOST, h.as_bytes())?;
                }
                for s in &src.segments {
                    m.option(option::URI_PATH, s)?;
                }
                for q in &src.queries {
                    m.option(option::URI_QUERY, q)?;
                }
                m.block_option(option::BLOCK2, block)?;
                // RFC 7959 §4: ask for the total with every block, so that a
                // download resumed mid-way (after a restart) learns it too.
                m.uint_option(option::SIZE2, 0)?;
                Ok::<(), crate::coap::EmitError>(())
            })
            .ok();
        l.last_activity = now;
        match token {
            Some(t) => d.token = Some(t),
            // The request does not fit a message: this URI cannot be used.
            None => self.fail_download(UpdateResult::InvalidUri),
        }
    }

    /// A datagram on the download link.
    pub(super) fn on_download_coap(&mut self, now: Instant, li: usize, bytes: &[u8]) {
        use crate::coap::endpoint::Received;
        let Some(l) = self.links.get_mut(li) else {
            return;
        };
        let link = l.id;
        match l.endpoint.handle_datagram(now, bytes) {
            Received::Response { token, msg } => self.on_download_response(now, link, token, &msg),
            Received::Reset { token, .. } => self.download_gave_up(now, link, token),
            // The file server is not a LwM2M server: its requests are not
            // served (SPEC §5).
            _ => {}
        }
    }

    /// Our request `token` on `link` got no answer or a reset.
    pub(super) fn download_gave_up(&mut self, now: Instant, link: LinkId, token: Token) {
        let ours = self
            .downloads
            .active
            .as_ref()
            .is_some_and(|d| d.link == Some(link) && d.token == Some(token));
        if ours {
            self.download_lost(now);
        }
    }

    /// The connection is lost: resume after a back-off, or give up.
    fn download_lost(&mut self, now: Instant) {
        let policy = self.downloads.policy;
        let Some(d) = self.downloads.active.as_mut() else {
            return;
        };
        d.failures = d.failures.saturating_add(1);
        d.token = None;
        let link = d.link.take();
        let give_up = d.failures > policy.max_retries;
        d.retry_at = Some(now + policy.backoff_after(d.failures));
        if let Some(l) = link {
            self.close_link(l);
        }
        if give_up {
            self.fail_download(UpdateResult::ConnectionLost);
        }
    }

    fn on_download_response(
        &mut self,
        now: Instant,
        link: LinkId,
        token: Token,
        msg: &Message<'_>,
    ) {
        let policy = self.downloads.policy;
        let Some(d) = self.downloads.active.as_mut() else {
            return;
        };
        if d.link != Some(link) || d.token != Some(token) {
            return;
        }
        d.token = None;
        let step = d.fetch.on_response(msg);
        let chunk = match step {
            Ok(c) => c,
            Err(Block2FetchError::EtagChanged) => {
                d.restarts = d.restarts.saturating_add(1);
                if d.restarts > policy.max_retries {
                    return self.fail_download(UpdateResult::ConnectionLost);
                }
                // The file changed: start over from byte 0.
                d.fetch = Block2Fetcher::new(d.szx, policy.max_size);
                d.opened = false;
                return self.next_block(now, link);
            }
            Err(Block2FetchError::TooLarge) => {
                return self.fail_download(UpdateResult::NotEnoughFlash);
            }
            Err(Block2FetchError::Failed(code)) if code.class() == 4 => {
                return self.fail_download(UpdateResult::InvalidUri);
            }
            Err(_) => return self.download_lost(now),
        };
        d.failures = 0;
        let first = !d.opened;
        d.opened = true;
        let size = msg.size2().map(u64::from);
        let Some(fw) = firmware(&mut self.dm) else {
            return self.drop_download();
        };
        let ok = (!first || fw.pull_open(size))
            && fw.pull_write(chunk.bytes, d.fetch.etag(), size)
            && (chunk.more || fw.pull_finish());
        if !ok || !chunk.more {
            // Failed (the object is Idle with the result) or Downloaded.
            self.drop_download();
            self.step_firmware_events();
            return;
        }
        self.next_block(now, link);
    }

    fn next_block(&mut self, now: Instant, link: LinkId) {
        if let Some(li) = self.link_index(link)
            && self.links.get(li).is_some_and(|l| l.ready())
        {
            self.send_block(now, li);
        }
    }
}

#[cfg(test)]
#[path = "download_tests.rs"]
mod tests;
