// Package coat reads the Coat data set (Schnabel et al. 2016, "Recommendations as Treatments")
// and measures selection bias on it: a small explicit matrix factorisation trained by weighted
// alternating least squares on the self-selected (MNAR) train ratings, naive or weighted by the
// inverse of each rating's propensity, and evaluated by MSE and MAE on the uniformly random (MAR)
// test ratings.
//
// Coat's files are dense 290 × 300 matrices of whitespace-separated numbers, one user a line:
// train.ascii and test.ascii hold integer ratings 1–5 with 0 for missing, propensities.ascii the
// authors' learned propensities. There are no timestamps.
//
// The factorisation lives here rather than in candidates/als so that explicit ALS without weights
// stays bit-identical by construction: nothing in candidates/als changes.
package coat
