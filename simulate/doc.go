// Package simulate closes the feedback loop over the synthetic world (issue 13, item 2): each
// round (a simulated day after the world's window) every policy serves a slate to each sampled
// user, the world's click model decides the clicks, everything is logged, and at the round's end
// the cascade policy's ranker retrains from what it showed.
//
// The pieces, one per file:
//
//   - config.go: Config (world size, rounds, users per round, slate size, exploration, the
//     re-ranker's parameters), its defaults, YAML loading and validation.
//   - clickmodel.go: the world's position-based click model, P(click at position p) =
//     p^−PositionDecay · σ(ClickScale·affinity + ClickBias), with synth's own parameters, and the
//     exact expected reward of a slate.
//   - population.go: each policy's copy of the users' histories (the world's events, then the
//     policy's own clicks), so that policies do not see each other's effects.
//   - policy.go: the Policy interface and the baselines: oracle (true top k), popularity,
//     uniform random.
//   - explore.go: turning scores into a slate: greedy, ε-greedy, or Plackett–Luce sampling from the
//     softmax, each with the propensity of every choice.
//   - cascade.go: the cascade policy, a trained pipeline bundle served through RecommendDense with
//     explain, whose candidates a LightGBM re-ranker (reranker.go) orders; the re-ranker retrains
//     each round from the policy's own impressions, built by ranker.BuildImpressions — the same
//     builder as the pipeline's `ranking_data: {source: impressions}` (clicked = positive, shown
//     and not clicked = negative, position as a training-only feature, optionally sampled
//     catalog negatives and inverse-propensity weights).
//   - candgen.go: two-tower candidate generators by training mode (issue 13, 3a): from the
//     slates alone, with sampled negatives, or from every event; each serves its own top items
//     and retrains each round on what it logged, measured by its candidates' junk share, recall
//     of the true top k and share of never-shown items.
//   - servedlog.go: the per-round JSON-lines log in the server's served-log format, with each
//     item's propensity and click added.
//   - metrics.go: per round and policy, the slates' true expected reward, coverage and the share of
//     slots (and of the cascade's candidates) taken by junk.
//   - simulate.go: Run, which builds the world and the bundle and runs the rounds; Report is what
//     `cascade simulate --json` writes.
//
// A run is deterministic for Config.Seed: every user's draws in a round come from a source seeded
// by (seed, round, policy, user), so serving in parallel changes nothing.
package simulate
