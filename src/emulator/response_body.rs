//! The body of an emulator answer: sent whole, or cut off halfway to model an answer lost
//! on the way back after the server applied the call (`Faults::reset_rate`). A cut body
//! announces its full length, yields the first half, then asks its connection to be reset
//! and never ends, so the client can never mistake it for a complete answer.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::sync::Notify;

/// An answer body of known length.
pub(crate) struct ResponseBody {
    /// What is left to send.
    chunk: Option<Bytes>,
    /// The announced length (`Content-Length`).
    len: u64,
    ending: Ending,
}

enum Ending {
    /// End of the body after the chunk.
    Complete,
    /// After the chunk, tell the connection to reset itself.
    Cut(Arc<Notify>),
    /// The reset was asked for; nothing more will come.
    Hanging,
}

impl ResponseBody {
    pub(crate) fn new(bytes: Bytes) -> ResponseBody {
        ResponseBody {
            len: bytes.len() as u64,
            chunk: Some(bytes).filter(|b| !b.is_empty()),
            ending: Ending::Complete,
        }
    }

    /// The same answer gzip-compressed (fast level: the work of a gateway, not an archive).
    pub(crate) fn gzipped(self) -> ResponseBody {
        use std::io::Write as _;
        let plain = self.chunk.unwrap_or_default();
        let mut packer = flate2::write::GzEncoder::new(
            Vec::with_capacity(plain.len() / 4 + 64),
            flate2::Compression::fast(),
        );
        // Writing to a Vec cannot fail.
        let packed = packer
            .write_all(&plain)
            .and_then(|()| packer.finish())
            .unwrap_or_default();
        ResponseBody::new(packed.into())
    }

    /// The same answer, cut after half its body: `cut` is notified once the first half
    /// has been handed to the connection.
    pub(crate) fn cut_halfway(self, cut: Arc<Notify>) -> ResponseBody {
        let chunk = self.chunk.map(|mut bytes| bytes.split_to(bytes.len() / 2));
        ResponseBody {
            chunk: chunk.filter(|b| !b.is_empty()),
            len: self.len,
            ending: Ending::Cut(cut),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let reply = self.get_mut();
        if let Some(chunk) = reply.chunk.take() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match std::mem::replace(&mut reply.ending, Ending::Hanging) {
            Ending::Complete => {
                reply.ending = Ending::Complete;
                Poll::Ready(None)
            }
            // The connection task wakes on the notification, not this body; it drops the
            // connection, and this body with it.
            Ending::Cut(cut) => {
                cut.notify_one();
                Poll::Pending
            }
            Ending::Hanging => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunk.is_none() && matches!(self.ending, Ending::Complete)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    fn poll(reply: &mut ResponseBody) -> Poll<Option<Bytes>> {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(reply)
            .poll_frame(&mut cx)
            .map(|frame| frame.map(|f| f.unwrap().into_data().unwrap()))
    }

    #[test]
    fn a_whole_reply_sends_its_bytes_and_ends() {
        let mut reply = ResponseBody::new(Bytes::from_static(b"{\"result\":{}}"));
        assert_eq!(reply.size_hint().exact(), Some(13));
        assert_eq!(
            poll(&mut reply),
            Poll::Ready(Some(Bytes::from_static(b"{\"result\":{}}")))
        );
        assert!(reply.is_end_stream());
        assert_eq!(poll(&mut reply), Poll::Ready(None));
    }

    #[test]
    fn a_gzipped_reply_unpacks_to_the_same_bytes() {
        let plain = Bytes::from(r#"{"result":{"tasks":[]}}"#.repeat(100));
        let mut reply = ResponseBody::new(plain.clone()).gzipped();
        let packed = match poll(&mut reply) {
            Poll::Ready(Some(packed)) => packed,
            other => panic!("{other:?}"),
        };
        assert_eq!(reply.size_hint().exact(), Some(packed.len() as u64));
        assert!(packed.len() < plain.len() / 10, "{} bytes", packed.len());
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&packed[..]),
            &mut unpacked,
        )
        .unwrap();
        assert_eq!(unpacked, plain);
    }

    #[test]
    fn a_cut_reply_announces_everything_sends_half_and_never_ends() {
        let cut = Arc::new(Notify::new());
        let mut reply =
            ResponseBody::new(Bytes::from_static(b"0123456789")).cut_halfway(Arc::clone(&cut));
        assert_eq!(reply.size_hint().exact(), Some(10));
        assert_eq!(
            poll(&mut reply),
            Poll::Ready(Some(Bytes::from_static(b"01234")))
        );
        assert_eq!(poll(&mut reply), Poll::Pending);
        assert!(!reply.is_end_stream());
        assert_eq!(poll(&mut reply), Poll::Pending);
        let notified = cut.notified();
        tokio::pin!(notified);
        assert!(
            notified.as_mut().enable(),
            "the connection was told to reset"
        );
    }
}
