// Package ranker owns the data that second-stage rankers learn from and are judged on: the
// ranking Set (requests, each with the user's history, the candidate list a first stage proposed,
// dense per-candidate features under a named schema, and labels), its builder, NDCG over
// candidate lists, and a writer of LightGBM's ranking format. The rankers themselves live in
// subpackages: attention (DIN-style target attention) and gbdt (LambdaMART).
//
// Building. Build replays a window of the log (a dataset.Split's test events): at every event it
// asks the Stages — the candidate and feature stages, which a pipeline supplies — for the user's
// candidates and their features, with the history (the user's earlier events, as replay-v1 §3
// passes it), and labels 1 the event's item and every item the user takes within the horizon
// after it, 0 the other candidates. Rankers learn from what was proposed; BuildOptions can cap
// the requests per user and overall, and mix in uniformly random catalog items as negatives.
//
// Which requests are kept. A request whose target was not proposed stays in the set (with no
// positive label, unless a later item within the horizon was proposed): dropping it would
// reward a ranker for the candidate stage's misses, and NDCG over all requests is then the
// replay-v1 ndcg of "candidate stage + ranker" restricted to the candidate list. Training
// usually keeps only requests with a positive (Set.WithPositives), since a listwise loss has
// nothing to learn from the others; Evaluate reports both averages. Events whose history holds
// no catalog item are left out (replay-v1 answers them with its fallback), and so are events for
// which nothing was proposed; BuildStats counts both.
package ranker
