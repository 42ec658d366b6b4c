// Package attention owns Cascade's early-interaction ranker: DIN-style target attention over the
// user's history (Zhou et al. 2018), its hand-written backward pass, training on ranking sets
// (package ranker), batch scoring of a candidate list, and its model file (artifact kind
// "attention"). Layers, Adam and the GEMM come from package nn.
//
// Model. Items have a d-sized embedding (optionally initialised from another model's item
// table, e.g. two-tower or iALS factors). For a candidate c and the last L known history items
// h_1…h_L (oldest first):
//
//	din:  a_j = w₂·ReLU(W₁·[h_j, c, h_j−c, h_j⊙c] + b₁) + b₂ + r_{L−j}, softmax-normalised over
//	      j or not (Params.Softmax; DIN proper, the default, leaves them raw to keep the
//	      intensity of interest)
//	dot:  a_j = softmax_j(h_j·W·c/√d + r_{L−j})
//	mean: a_j = 1/L, the DIN-less ablation
//	pooled = Σ_j a_j·h_j
//	logit  = MLP([pooled, c, pooled⊙c, z]) with z the candidate's dense features standardised
//	         by the mean and deviation of the training candidates (saved in the model).
//
// Cost. The first layer of the DIN unit is linear in its input, so W₁·[h, c, h−c, h⊙c] =
// (W_h+W_d)·h + (W_c−W_d)·c + W_p·(h⊙c): the history term is computed once per request, the
// candidate term once per candidate, and only W_p·(h⊙c) is paid per pair. All three are folded
// into one GEMM per block of candidates (see net), n·L·A·(d+1) multiply-adds for n candidates,
// L history items and an A-wide unit: 26 M for 500 × 50 × 16 × 65.
//
// Training. Losses: pointwise logistic (bce) or listwise softmax cross-entropy per request
// (softmax). Only requests with a positive label are used, and Params.TrainCandidates can
// subsample their negatives each epoch. Adam updates the embedding rows lazily (sparse rows).
// A batch is cut into a fixed number of shards run on Params.Workers goroutines, each with its
// own replica of the gradients, summed in shard order, so a run is deterministic for a seed
// whatever the number of cores. Early stopping watches NDCG@EvalK over the candidate lists of
// a validation set and keeps the best epoch's weights.
//
// Serving. Model.Score scores a whole candidate list per call with scratch from a sync.Pool (no
// allocation in steady state) and is safe for concurrent use. Dense features are passed in the
// order of Model.FeatureNames; CheckFeatures names missing, extra or misplaced ones.
package attention
