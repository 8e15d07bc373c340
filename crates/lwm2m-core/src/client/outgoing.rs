//! Our own requests to a server (Register, Update, De-register,
//! Bootstrap-Request, Send): one message, or a sequence of Block1 blocks
//! when the body outgrows a block (RFC 7959 §2.3, §2.5; SPEC §1 guarantee
//! 5). Every block carries the same options; the server's 2.31 Continue
//! moves to the next block and may ask for a smaller block size.

use alloc::string::String;
use alloc::vec::Vec;

use super::Client;
use super::link::Purpose;
use crate::coap::block_client::{Block1Sender, Block1Step};
use crate::coap::{Block, Code, EmitError, Message, Token, option};
use crate::time::Instant;

/// A request body being sent block by block.
#[derive(Clone, Debug)]
pub struct Upload {
    /// What the request is for.
    pub purpose: Purpose,
    /// Method.
    pub code: Code,
    /// Uri-Path segments.
    pub path: Vec<String>,
    /// Uri-Query items.
    pub queries: Vec<String>,
    /// Content-Format of the body.
    pub content_format: Option<u16>,
    /// The whole body.
    pub body: Vec<u8>,
    /// Progress.
    pub sender: Block1Sender,
}

/// What a response meant for an upload.
pub enum UploadStep {
    /// Not an upload, or its final response: handle it.
    Final,
    /// The next block went out; nothing else to do.
    Continued,
    /// The upload cannot go on.
    Failed,
}

/// A request to send.
pub struct OutRequest<'a> {
    /// What it is for.
    pub purpose: Purpose,
    /// Method.
    pub code: Code,
    /// Uri-Path segments.
    pub path: &'a [&'a str],
    /// Uri-Query items.
    pub queries: &'a [&'a str],
    /// Content-Format of the body.
    pub content_format: Option<u16>,
    /// The body.
    pub body: &'a [u8],
}

fn emit(
    m: &mut crate::coap::MessageBuilder<'_>,
    path: &mut dyn Iterator<Item = &str>,
    queries: &mut dyn Iterator<Item = &str>,
    content_format: Option<u16>,
    block1: Option<Block>,
    size1: Option<usize>,
    payload: &[u8],
) -> Result<(), EmitError> {
    for seg in path {
        m.option(option::URI_PATH, seg.as_bytes())?;
    }
    if let Some(cf) = content_format {
        m.uint_option(option::CONTENT_FORMAT, u32::from(cf))?;
    }
    for q in queries {
        m.option(option::URI_QUERY, q.as_bytes())?;
    }
    if let Some(b) = block1 {
        m.block_option(option::BLOCK1, b)?;
    }
    if let Some(s) = size1 {
        m.uint_option(option::SIZE1, u32::try_from(s).unwrap_or(u32::MAX))?;
    }
    m.payload(payload)?;
    Ok(())
}

impl Client {
    /// Sends `req` on link `li`, block-wise when the body does not fit one
    /// block. Returns the token of the (first) message.
    pub(super) fn start_request(
        &mut self,
        now: Instant,
        li: usize,
        req: OutRequest<'_>,
    ) -> Option<Token> {
        let szx = self.config.limits.coap.block_szx;
        let block_size = 1usize << (szx + 4);
        let overhead = 128 + req.queries.iter().map(|q| q.len() + 3).sum::<usize>();
        let fits = req.body.len() <= block_size
            && req.body.len() + overhead <= self.config.limits.coap.max_message_size;
        let link = self.links.get_mut(li)?;
        link.uploads.retain(|u| u.purpose != req.purpose);
        let (block1, size1, payload) = if fits {
            (None, None, req.body)
        } else {
            let sender = Block1Sender::new(req.body.len(), szx);
            let (b, r) = sender.next_block();
            link.uploads.push(Upload {
                purpose: req.purpose,
                code: req.code,
                path: req.path.iter().map(|s| String::from(*s)).collect(),
                queries: req.queries.iter().map(|s| String::from(*s)).collect(),
                content_format: req.content_format,
                body: req.body.to_vec(),
                sender,
            });
            (
                Some(b),
                Some(req.body.len()),
                req.body.get(r).unwrap_or(&[]),
            )
        };
        let token = link
            .endpoint
            .request(true, req.code, |m| {
                emit(
                    m,
                    &mut req.path.iter().copied(),
                    &mut req.queries.iter().copied(),
                    req.content_format,
                    block1,
                    size1,
                    payload,
                )
            })
            .ok();
        match token {
            Some(t) => {
                link.pending.push((t, req.purpose));
                link.last_activity = now;
            }
            None => link.uploads.retain(|u| u.purpose != req.purpose),
        }
        token
    }

    /// A response to a request of `purpose` on link `li`: continues an
    /// upload on 2.31, or says the response is final.
    pub(super) fn upload_step(
        &mut self,
        now: Instant,
        li: usize,
        purpose: Purpose,
        msg: &Message<'_>,
    ) -> UploadStep {
        let Some(link) = self.links.get_mut(li) else {
            return UploadStep::Final;
        };
        let Some(ui) = link.uploads.iter().position(|u| u.purpose == purpose) else {
            return UploadStep::Final;
        };
        let step = link.uploads.get_mut(ui).map(|u| u.sender.on_response(msg));
        match step {
            Some(Ok(Block1Step::SendNext)) => {}
            Some(Ok(Block1Step::Done)) | None => {
                link.uploads.swap_remove(ui);
                return UploadStep::Final;
            }
            Some(Err(_)) => {
                link.uploads.swap_remove(ui);
                return if msg.code() == Code::CONTINUE {
                    UploadStep::Failed
                } else {
                    UploadStep::Final
                };
            }
        }
        let Some(u) = link.uploads.get(ui) else {
            return UploadStep::Failed;
        };
        let (block, range) = u.sender.next_block();
        let payload = u.body.get(range).unwrap_or(&[]);
        let token = link
            .endpoint
            .request(true, u.code, |m| {
                emit(
                    m,
                    &mut u.path.iter().map(String::as_str),
                    &mut u.queries.iter().map(String::as_str),
                    u.content_format,
                    Some(block),
                    None,
                    payload,
                )
            })
            .ok();
        match token {
            Some(t) => {
                link.pending.push((t, purpose));
                link.last_activity = now;
                UploadStep::Continued
            }
            None => {
                link.uploads.swap_remove(ui);
                UploadStep::Failed
            }
        }
    }
}
