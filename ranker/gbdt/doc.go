// Package gbdt owns Cascade's gradient-boosted tree rankers: a pure-Go histogram GBDT trainer
// (LambdaMART via the lambdarank objective, and binary logistic regression) that writes
// LightGBM's text model format, the readers for LightGBM's training data formats (TSV and
// libsvm, with a .query file of group sizes), LightGBM-compatible NDCG and logloss, and the
// loader and batch scorer for any LightGBM model.txt (validated, then loaded through
// github.com/dmitryikh/leaves).
//
// The trainer follows LightGBM's algorithms closely enough that a model trained here with
// LightGBM's parameters reaches LightGBM's quality: quantile binning into at most 255 bins per
// feature with a separate bin for NaN and a learned default direction, leaf-wise growth,
// histogram subtraction, and LightGBM's lambdarank gradients (NDCG-weighted pairwise λ with
// truncation and normalisation). Files it writes load in leaves and in LightGBM 4.x.
package gbdt
