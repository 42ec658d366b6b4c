// Package pipeline owns a recommendation request end to end, and everything a pipeline file
// declares: the data set and split, named models with their parameters and tuning grids, and the
// stages a request flows through (retrieve → filter → features → rankers → top k).
//
// The request path — one policy for the server, replay and programs embedding Cascade:
//
//   - request.go: Query, Result and RecommendDense, which decides the fallback for histories
//     without a known item and degrades to a precomputed list when the stages fail or run out
//     of time; recommend.go: Recommend, the same call in external IDs.
//   - retrieve.go (sources under budgets, merge, the filter as a predicate), rank.go (the feature
//     matrix and the rankers), fallback.go (the fallback and degraded answers), explain.go,
//     similar.go (nearest items through the two-tower's ANN index or factor models), replay.go
//     (the adapter replay drives).
//
// The pipeline file: config.go (the types), decode.go, locate.go and terms.go (strict YAML
// decoding whose errors name the file, line, key path and expected type), suggest.go ("did you
// mean"), validate.go, grid.go (tuning grids), configerror.go, events.go (the events section:
// event type weights, drops and positives, checked against the data's types at load).
//
// Training and the bundle: train.go (Train: grids tuned on the validation split, refits),
// halving.go (judging a grid: every point in full, or by successive halving), cost.go (what each
// training stage used, for the manifest),
// rankdata.go (the ranking requests rankers learn from: the candidates at validation events, or
// the slates of an impressions log — ranking_data.source), rankers.go (ranker kinds), stack.go
// (choosing the ranking stack on validation), cache.go (trained models keyed by what determines
// them), plan.go (progress over the whole run), manifest.go and open.go (the bundle on disk and
// loading it), kinds.go and registry.go (model and ranker kinds, and registering a program's own).
//
// variants.go: a file's variants (an A/B test served from one bundle) and the stable bucketing of
// users between them. ratings.go: ratings files, whose one explicit_mf model is trained and
// judged on Coat's ratings (EvaluateRatings) instead of being served.
package pipeline
