// Package fleet has no API: its tests run a fleet of Cascade replicas (server.Server, over real
// loopback HTTP) that share one real redis-server, started by the tests on a free port with a
// temporary directory (they skip, saying so, only when redis-server is not installed).
//
// They check what docs/redis.md promises: an event posted to one replica shapes the next answer
// of any other; no acknowledged event is lost when a replica is killed with SIGKILL, nor when
// Redis is (appendfsync always); when Redis restarts or hangs, recommendations keep answering
// (with a warning) within their deadline and events are refused with 503 history_unavailable
// until Redis is back; a bad bundle named by the rollout pointer is refused by every replica while
// the old one keeps serving, and a good one reaches every replica.
//
// The measurements that take longer (what appendfsync everysec and RDB-only lose under a Redis
// SIGKILL) are in the fault suite: go test -tags fault -v -run TestFleetFault ./server/fleet/
package fleet
