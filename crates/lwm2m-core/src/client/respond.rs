//! Responses that carry a payload: Read, Observe, Discover, Read-Composite,
//! Bootstrap-Read and -Discover, rendered straight into the response buffer
//! and falling back to a block-wise snapshot when large; and the plain
//! answers (codes, 5.03 with Max-Age).

use alloc::vec::Vec;

use super::Client;
use super::dispatch::emit;
use super::observe::ObsTarget;
use crate::coap::endpoint::RequestId;
use crate::coap::{Code, EmitError, Message, ResponseBuilder, option};
use crate::content::{DecodeError, Encode, Encoder, Format, negotiate, senml_cbor, senml_json};
use crate::dm::ops::{bootstrap as bs, composite, discover, read};
use crate::dm::{DataType, Level, Origin, Path};
use crate::error::DmError;
use crate::time::Instant;

impl Client {
    /// Answers with `code` and no payload (Max-Age on 5.03).
    pub(super) fn reply_code(
        &mut self,
        now: Instant,
        li: usize,
        id: &RequestId,
        code: Code,
        max_age: Option<u32>,
    ) {
        if let Some(l) = self.links.get_mut(li) {
            let _ = l.endpoint.respond(now, id, code, |rb| {
                if let Some(s) = max_age {
                    rb.uint_option(option::MAX_AGE, s)?;
                }
                Ok::<(), EmitError>(())
            });
        }
    }

    pub(super) fn reply_error(&mut self, now: Instant, li: usize, id: &RequestId, e: DmError) {
        let max_age = (e == DmError::ServiceUnavailable).then_some(5);
        self.reply_code(now, li, id, e.code(), max_age);
    }

    pub(super) fn reply_busy(&mut self, now: Instant, li: usize, id: &RequestId, until: Instant) {
        self.stats.busy += 1;
        let secs = until
            .saturating_duration_since(now)
            .as_secs()
            .saturating_add(1);
        let secs = u32::try_from(secs).unwrap_or(u32::MAX);
        self.reply_code(now, li, id, Code::SERVICE_UNAVAILABLE, Some(secs));
    }

    /// Read / Observe: the value rendered into the response (block-wise from
    /// a snapshot when large).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn respond_read(
        &mut self,
        now: Instant,
        li: usize,
        id: &RequestId,
        origin: Origin,
        path: Path,
        observe: bool,
    ) {
        let rdef = self.dm.resource_def(&path);
        let single = match path.level() {
            Level::ResourceInstance => true,
            Level::Resource => rdef.is_some_and(|r| !r.multiple),
            _ => false,
        };
        let opaque = rdef.is_some_and(|r| r.data_type == DataType::Opaque);
        let fmt = match negotiate(id.accept(), single, opaque, self.hierarchical_format()) {
            Ok(f) => f,
            Err(e) => return self.reply_error(now, li, id, e),
        };
        let ssid = match origin {
            Origin::Server(s) => s,
            Origin::Bootstrap => 0,
        };
        let mut registered = false;
        if observe
            && self.observations.len() < self.config.max_observations
            && let Some(l) = self.links.get_mut(li)
        {
            registered = l.endpoint.observe(id).is_ok();
        }
        let ok = self.render(
            now,
            li,
            id,
            fmt,
            |dm, enc, w| read::read(dm, origin, &path, enc, w),
            path,
        );
        let Some(link) = self.links.get(li).map(|l| l.id) else {
            return;
        };
        if ok && registered {
            self.add_observation(now, link, ssid, id.token(), ObsTarget::Single(path), fmt);
        }
        if ok {
            self.lock_if_snapshot(now, li, id, path.oid());
        }
    }

    /// Renders a payload produced by `produce` as the response, falling back
    /// to a block-wise snapshot when it does not fit one message; answers the
    /// error otherwise. Whether it succeeded.
    pub(super) fn render(
        &mut self,
        now: Instant,
        li: usize,
        id: &RequestId,
        fmt: Format,
        produce: impl Fn(
            &crate::dm::Registry,
            &mut dyn Encode,
            &mut crate::buf::Writer<'_>,
        ) -> Result<(), DmError>,
        base: Path,
    ) -> bool {
        let Some(l) = self.links.get_mut(li) else {
            return false;
        };
        let dm = &self.dm;
        let attempt = |rb: &mut ResponseBuilder<'_>, large: bool| -> Result<(), DmError> {
            rb.uint_option(option::CONTENT_FORMAT, u32::from(fmt.number()))
                .map_err(emit)?;
            let w = if large {
                rb.large_payload()
            } else {
                rb.payload()
            }
            .map_err(emit)?;
            let mut enc = Encoder::new(fmt, base).ok_or(DmError::NotAcceptable)?;
            produce(dm, &mut enc, w)
        };
        let first = l
            .endpoint
            .respond(now, id, Code::CONTENT, |rb| attempt(rb, false));
        let err = match first {
            Ok(()) => return true,
            Err(crate::coap::endpoint::RespondError::Render(DmError::Internal)) => {
                match l
                    .endpoint
                    .respond(now, id, Code::CONTENT, |rb| attempt(rb, true))
                {
                    Ok(()) => return true,
                    Err(crate::coap::endpoint::RespondError::Render(e)) => e,
                    Err(_) => DmError::Internal,
                }
            }
            Err(crate::coap::endpoint::RespondError::Render(e)) => e,
            Err(_) => DmError::Internal,
        };
        self.reply_error(now, li, id, err);
        false
    }

    pub(super) fn respond_discover(
        &mut self,
        now: Instant,
        li: usize,
        msg: &Message<'_>,
        id: &RequestId,
        origin: Origin,
        path: Path,
    ) {
        let depth = match discover::parse_depth(msg.uri_query()) {
            Ok(d) => d,
            Err(e) => return self.reply_error(now, li, id, e),
        };
        let Some(l) = self.links.get_mut(li) else {
            return;
        };
        let (dm, attrs) = (&self.dm, &self.attrs);
        let r = l.endpoint.respond(now, id, Code::CONTENT, |rb| {
            rb.uint_option(
                option::CONTENT_FORMAT,
                u32::from(Format::LinkFormat.number()),
            )
            .map_err(emit)?;
            let w = rb.payload().map_err(emit)?;
            discover::discover(dm, attrs, origin, &path, depth, w)
        });
        if let Err(crate::coap::endpoint::RespondError::Render(e)) = r {
            self.reply_error(now, li, id, e);
        }
    }

    pub(super) fn respond_bootstrap_discover(
        &mut self,
        now: Instant,
        li: usize,
        id: &RequestId,
        path: Path,
    ) {
        let version = self.config.version;
        let Some(l) = self.links.get_mut(li) else {
            return;
        };
        let dm = &self.dm;
        let r = l.endpoint.respond(now, id, Code::CONTENT, |rb| {
            rb.uint_option(
                option::CONTENT_FORMAT,
                u32::from(Format::LinkFormat.number()),
            )
            .map_err(emit)?;
            let w = rb.payload().map_err(emit)?;
            bs::bootstrap_discover(dm, &path, version, w)
        });
        if let Err(crate::coap::endpoint::RespondError::Render(e)) = r {
            self.reply_error(now, li, id, e);
        }
        self.bootstrap_activity(now);
    }

    pub(super) fn respond_bootstrap_read(
        &mut self,
        now: Instant,
        li: usize,
        msg: &Message<'_>,
        id: &RequestId,
        path: Path,
    ) {
        let fmt = match negotiate(msg.accept(), false, false, self.hierarchical_format()) {
            Ok(f) => f,
            Err(e) => return self.reply_error(now, li, id, e),
        };
        self.render(
            now,
            li,
            id,
            fmt,
            |dm, enc, w| bs::bootstrap_read(dm, &path, enc, w),
            path,
        );
        self.bootstrap_activity(now);
    }

    /// Read-Composite / Observe-Composite (FETCH with a SenML list of paths).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn respond_composite(
        &mut self,
        now: Instant,
        li: usize,
        msg: &Message<'_>,
        id: &RequestId,
        origin: Origin,
        payload: &[u8],
        observe: bool,
    ) {
        let limits = self.config.limits.decode;
        let req_fmt = match Self::request_format(msg) {
            Ok(f) => f,
            Err(e) => return self.reply_error(now, li, id, e),
        };
        let paths: Result<Vec<Path>, DecodeError> = match req_fmt {
            Format::SenmlJson => senml_json::SenmlJsonPaths::new(payload, limits).collect(),
            Format::SenmlCbor => senml_cbor::SenmlCborPaths::new(payload, limits).collect(),
            _ => return self.reply_error(now, li, id, DmError::UnsupportedContentFormat),
        };
        let paths = match paths {
            Ok(p) => p,
            Err(e) => return self.reply_error(now, li, id, e.into()),
        };
        let fmt = match msg.accept().map(Format::from_number) {
            None => req_fmt,
            Some(Some(f @ (Format::SenmlJson | Format::SenmlCbor | Format::Lwm2mCbor))) => f,
            Some(_) => return self.reply_error(now, li, id, DmError::NotAcceptable),
        };
        let max_paths = self.config.limits.dm.max_composite_paths;
        let ssid = match origin {
            Origin::Server(s) => s,
            Origin::Bootstrap => 0,
        };
        let mut registered = false;
        if observe
            && self.observations.len() < self.config.max_observations
            && let Some(l) = self.links.get_mut(li)
        {
            registered = l.endpoint.observe(id).is_ok();
        }
        let list = paths.clone();
        let ok = self.render(
            now,
            li,
            id,
            fmt,
            move |dm, enc, w| {
                composite::read_composite(
                    dm,
                    origin,
                    list.iter().map(|p| Ok(*p)),
                    max_paths,
                    enc,
                    w,
                )
            },
            Path::ROOT,
        );
        let Some(link) = self.links.get(li).map(|l| l.id) else {
            return;
        };
        if ok && registered {
            self.add_observation(
                now,
                link,
                ssid,
                id.token(),
                ObsTarget::Composite(paths),
                fmt,
            );
        }
        if ok {
            self.lock_if_snapshot(now, li, id, None);
        }
    }
}
