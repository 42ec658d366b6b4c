// Package coat reads the Coat data set (Schnabel et al. 2016, "Recommendations as Treatments")
// and fits explicit matrix factorisation to it by weighted alternating least squares: on the
// self-selected (MNAR) train ratings, naive or weighted by the inverse of each rating's
// propensity (Params), its grid chosen on a holdout or by cross-validation over the train ratings
// with the estimator of its weighting (Run), and judged by MSE and MAE on the uniformly random
// (MAR) test ratings. Pipeline files reach it as the explicit_mf model kind (pipeline/ratings.go).
//
// Coat's files are dense users × items matrices (290 × 300) of whitespace-separated numbers, one
// user a line: train.ascii and test.ascii hold integer ratings 1–5 with 0 for missing,
// propensities.ascii the authors' learned propensities. There are no timestamps. WriteSynthetic
// writes files of the same layout with a known selection mechanism, for tests.
//
// The factorisation lives here rather than in candidates/als so that explicit ALS without weights
// stays bit-identical by construction: nothing in candidates/als changes.
package coat
