// Package history owns the live history store of the recommendation server: the events users
// send while the server runs, kept in memory for the models (the last PerUser events of each
// user, within a global memory bound) and in an append-only log on disk so that acknowledged
// events survive a restart.
//
// Why a log and not an embedded database: the access pattern is "append, then read a user's
// bounded tail from memory"; a B-tree or LSM store (bbolt, pebble, badger) would add a dependency
// and random-access machinery for the one rare path that needs it (reading back a user evicted
// from memory). A log written with a CRC per record, group commit (one fsync acknowledges every
// event of a batch window), replay at open and background compaction is a few hundred lines of
// stdlib Go, and its failure modes are easy to state:
//
//   - a torn last record (a crash during a write) is cut at open, everything before it kept;
//   - a damaged record anywhere else, a damaged length or header: the reader resynchronises on
//     the next record that passes its checks, so only the damaged bytes are lost; the damage
//     is counted (Stats.DamagedRuns) and logged, the file as found is kept aside
//     (events.log.damaged-TIME) and a clean log replaces it;
//   - the file stays within MaxLogBytes: compaction keeps each user's last PerUser events
//     and, past half the bound, drops the least recently active users (Stats.DroppedUsers);
//   - a user evicted from memory who returns gets their logged history read back.
//
// The files: record.go (the format and the resynchronising scanner), recover.go (open and
// repair), log.go (the writer), compact.go, readback.go, filter.go (which users the log
// holds), store.go (memory).
//
// The log holds external string IDs, so it outlives any catalog: items the catalog does not know
// stay in the log (and survive compaction) but are not kept in memory, since no model can use
// them.
package history
