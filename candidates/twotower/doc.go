// Package twotower owns Cascade's neural candidate source: a two-tower retrieval model trained
// with hand-written forward and backward passes (package nn) and served through an ann index.
//
// Towers. Both emit L2-normalised Dim-sized embeddings; the score of item i for query q is
// u_q·v_i/τ (+ β·log P(i) at serving, see Params.PriorBeta).
//   - Item tower: item-ID embedding + one mean-of-embeddings per categorical attribute column +
//     the numeric attributes standardised (unknown → 0, plus a missing flag) → MLP → normalise.
//   - Query tower: the last HistoryLen history items (the item-ID table is shared with the item
//     tower) plus learned position embeddings (position 0 = most recent) → one multi-head
//     self-attention block over the real items only (residual + LayerNorm) → mean pool → concat
//     a hashed user-ID embedding (optional; unseen users hash into the same buckets) and
//     hour-of-day / day-of-week embeddings of the request time (UTC) → MLP → normalise.
//
// Training. Every train event with an earlier event of its user is an example (history before
// it → its item). Losses: the in-batch sampled softmax with accidental-hit masking, optionally
// logQ-corrected (Yi et al. 2019; streaming or exact frequency estimate) and with uniformly
// sampled extra negatives (Yang et al. 2020); or the Gramian loss of Krichene et al. 2019.
// With Params.Examples "impressions" (impressions.go) the examples are instead the clicked items
// of logged slates (TrainData.Impressions), each with its slate's shown-and-not-clicked items as
// its own negatives: alone (negatives "shown", a softmax over the slate) or beside the in-batch
// and uniform ones (in_batch, mixed) — the article's question of whether a generator that sees
// only what was shown needs sampled negatives (docs/benchmarks.md, issue 13, 3a).
// Optimiser: Adam, lazy on the embedding tables. Each batch is split across Options.Workers
// goroutines, each with its own activations and gradients, summed in a fixed order, so a run is
// reproducible for a given seed and worker count. Early stopping watches the validation
// recall@ValidationTopN of a replay over held-out later events.
//
// Serving. Model implements candidates.Source (query tower, then an index search that leaves
// out the history and the caller's skip set) and candidates.Scorer, with per-request scratch
// from a sync.Pool so that Recommend does not allocate in steady state. Save and Load use the
// artifact container (kind "twotower").
//
// Items added after training (live.go): SetLiveItems embeds them from their attributes alone
// (the item tower with the zero "unknown" ID row; Params.IDDropout trains that path) and
// inserts them into the growable index, so they can be recommended before the next retrain.
package twotower
