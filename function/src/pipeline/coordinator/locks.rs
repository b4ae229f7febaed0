//! The aggregate lock and the ages after which the run's state is someone else's business.

use super::{Adapters, CoordError, Coordinator};
use crate::domain::state::{keys, Lock};
use crate::ports::{ObjectStore, StoreError};

/// An aggregate lock older than this is taken over: longer than the 15 minutes any Lambda
/// invocation can run, so its holder is certainly gone.
pub const LOCK_LEASE_SECS: i64 = 16 * 60;

/// A run whose deadline passed longer ago than this is no longer the sweep's to finalize.
/// The runs/ lifecycle rule (7 days) may have removed part of it already: S3 "queues the
/// object for removal and removes it asynchronously", so done.json can go before the
/// manifest, and finalizing such a run again would publish an empty report over the week's
/// real one (latest.json, history) and could mail readers whose locks have expired.
pub const SWEEP_GIVE_UP_SECS: i64 = 24 * 3600;

/// An email lock older than this with neither a sent nor a failed mark is a send whose
/// outcome nobody recorded (a crash between the SES call and the mark): the sweep counts it
/// as EmailsUnconfirmed. Longer than any invocation that could still be writing the mark.
pub const EMAIL_UNCONFIRMED_SECS: i64 = 16 * 60;

impl<A: Adapters> Coordinator<A> {
    /// A lock older than any invocation can live belongs to an aggregator that died: take
    /// it over, but only if it is still the lock we read (If-Match), so of several takers
    /// exactly one wins.
    pub(super) async fn take_over_stale_lock(&self, run_id: &str, now: i64, mine: Vec<u8>) -> Result<bool, CoordError> {
        if self.exists(&keys::done(run_id)).await? {
            return Ok(false);
        }
        let key = keys::aggregate_lock(run_id);
        let (body, tag) = match self.store.get_tagged(&key).await {
            Ok(x) => x,
            Err(StoreError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let held: Lock = serde_json::from_slice(&body).map_err(|e| CoordError::Corrupt { key: key.clone(), message: e.to_string() })?;
        if now - held.acquired_at < LOCK_LEASE_SECS {
            return Ok(false);
        }
        match self.store.replace_if_match(&key, mine, &tag).await {
            Ok(()) => {
                tracing::warn!(run_id = %run_id, previous_owner = %held.owner, age_secs = now - held.acquired_at, "took over a stale aggregate lock");
                Ok(true)
            }
            Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
