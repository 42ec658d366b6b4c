// Package features owns the feature stage between candidate generation and the rankers: a
// registry of named features computed for a whole candidate batch at once, the statistics they
// read (built from a window of events and the data set's item attributes, saved as an artifact
// of kind "features"), and the Schema that names the columns, so that LightGBM and the attention
// ranker receive their dense inputs by name.
//
// # Flow
//
// Build computes Stats from the training window; NewExtractor binds them to the model scorers
// the pipeline registers (candidates.Scorer, by model name) and to the retrieval source names,
// which fixes the Schema. Per request, a Batch carries the Query, the candidate items and each
// source's scores and ranks; Extractor.Compute writes a row-major len(Items)×NumFeatures float32
// matrix with NaN for missing values (LightGBM and the attention ranker both read NaN as
// missing). ProjectFloat64 converts (and optionally reorders) rows for gbdt.Model.Score.
//
// # Features
//
// Names are stable snake_case strings (Describe returns each definition). Per model m:
// score_m, rank_m (1 + candidates of the batch scoring higher), pmi_m (score_m − log_prior).
// Per source s: src_s (proposed or not), srcscore_s, srcrank_s. Item: log_prior,
// log_prior_decayed, item_age_days, item_days_since_last, item_recent_pop, item_mean_rating,
// attr_<column> for numeric attributes. User: hist_len, days_since_last, user_mean_rating.
// User × item: genre_share, genre_match_max, cooc, cooc_max, cooc_cos, attrdiff_<column>.
//
// # Leakage
//
// A feature computed at request time t reads only events with a time before t: Stats keep every
// item's event times, and every co-occurrence's time, sorted, and each count is a binary search
// for t. Features of a request inside the statistics window (a ranker trained on the same
// window) therefore see what was known then, and a request after the window sees the whole
// window. One choice is window-wide: which cooc_top_k neighbours an item keeps is decided by
// their counts over the whole window (their values are still counted before t); with a
// cooc_top_k above the number of partners, nothing depends on events at or after t.
//
// # Performance
//
// Extractor is safe for concurrent use. Per-request scratch (hash index of the candidates, the
// history as a set of distinct items, per-candidate accumulators, attribute bitsets) is pooled,
// so a steady stream of requests allocates nothing. Co-occurrence walks the neighbour lists of
// the last cooc_history history items once (L·K hash probes) instead of comparing every
// candidate with every history item; the genre features OR per-value bitsets of the history.
package features
