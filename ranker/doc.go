// Package ranker owns the data that second-stage rankers learn from and are judged on: the
// ranking Set (requests, each with the user's history, the candidate list a first stage proposed
// or a logging policy showed, dense per-candidate features under a named schema, and labels),
// its builders, the FeatureProvider contract with the minimal built-in features, NDCG over
// candidate lists, and a writer of LightGBM's ranking format. The rankers themselves live in
// subpackages: attention (DIN-style target attention) and gbdt (LambdaMART).
//
// Builders. BuildFromLog replays an interaction log: at every event of a window it asks a
// candidates.Source for the user's top K (history = the user's earlier events in log order,
// seen items excluded, as replay-v1 §3 does), labels 1 the event's item and every item the user
// takes within Horizon after it, 0 the other candidates. BuildFromImpressions reads the logged
// slates of a synthetic world (impressions.jsonl): shown items are the candidates, clicks the
// labels, and the history is the user's events strictly before the request time. Rankers learn
// from what was proposed or shown; LogOptions.RandomNegatives optionally mixes in uniformly
// random catalog items so that the effect of easy negatives can be measured.
//
// Which requests are kept. A request whose target was not proposed stays in the set (with no
// positive label, unless a later item within the horizon was proposed): dropping it would
// reward a ranker for the candidate stage's misses, and NDCG over all requests is then the
// replay-v1 ndcg of "candidate stage + ranker" restricted to the candidate list. Training
// usually keeps only requests with a positive (Set.WithPositives), since a listwise loss has
// nothing to learn from the others; Evaluate reports both averages. Events without any earlier
// event of their user are left out (replay-v1's no-history steps), and so are events for which
// no candidate was proposed (see LogOptions.Fallback).
package ranker
