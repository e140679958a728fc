//! Storage of uploaded scans (*bản chụp, bản scan hồ sơ*) and electronic results
//! (*kết quả điện tử*): no database and no HTTP here, only bytes.
//!
//! # Design
//!
//! * **Content decides, never the name.** [`sniff`] recognises PDF, JPEG and PNG from
//!   their first bytes; everything else is refused ([`FileProblem::UnsupportedType`]).
//!   [`check_complete`] then looks at the last bytes kept in memory (the PDF `%%EOF`
//!   marker, the JPEG end-of-image marker, the PNG `IEND` chunk) so that an upload
//!   cut short by a broken connection is refused ([`FileProblem::Truncated`]) instead
//!   of being stored and shown to an official as a blank page.
//! * **The name is only a label.** [`clean_file_name`] NFC-normalises and checks the
//!   name the browser sent, for display and for `Content-Disposition`; it never
//!   becomes part of a path.
//! * **Content-addressed storage.** An upload is streamed chunk by chunk
//!   ([`Upload::write`]) into a private temporary file while being hashed, counted
//!   against a size limit and sniffed; [`Upload::finish`] moves it into place under
//!   its SHA-256. Identical content is stored once ([`StoredBlob::newly_stored`] is
//!   `false` for the second copy). The only paths ever built come from validated
//!   64-character lower-case hex digests.
//! * **Nothing half-written is ever visible.** The temporary file is synced and then
//!   renamed atomically into place; any refusal, error or dropped [`Upload`] deletes
//!   the temporary file. Temporary files left by a crash are removed by
//!   [`BlobStore::clean_temporary`].
//! * **Orphans are swept, not deleted eagerly.** The database (outside this module)
//!   records which hashes are referenced. A caller whose transaction fails after
//!   `finish` should *not* remove the blob — even when `newly_stored` is `true`, a
//!   concurrent upload of the same bytes may already reference it. Instead, a periodic
//!   sweep lists stored content with [`BlobStore::list`] and removes hashes that are
//!   unreferenced *and* whose modification time is older than a grace period (longer
//!   than the longest upload-plus-commit). `finish` refreshes the modification time
//!   of content that was already stored, so a sweep running concurrently spares it.
//! * **Replaceable backend.** [`BlobStore`] / [`Upload`] are object-safe traits so an
//!   S3-compatible store can follow; [`FsBlobStore`] is the filesystem implementation:
//!
//! ```text
//! root/tmp/<32 random hex>.part          uploads in progress (0600)
//! root/objects/ab/cd/abcd…(64 hex)       stored content, no extension (0640)
//! ```
//!
//! The media type is not part of the stored object: `finish` returns it and the
//! caller records it (see [`MediaType::as_str`] / [`MediaType::parse`]).

mod name;
mod problem;
mod sniff;
mod store;

pub use name::{clean_file_name, MAX_NAME_CHARS};
pub use problem::FileProblem;
pub use sniff::{check_complete, sniff, MediaType, SNIFF_LEN, TAIL_LEN};
pub use store::{BlobStore, FsBlobStore, StoredBlob, Upload};
