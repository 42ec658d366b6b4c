// Package als owns Cascade's matrix-factorisation candidate sources and their training:
//
//   - IALSModel: implicit ALS (Hu, Koren & Volinsky 2008) on interaction counts, with exact
//     (Cholesky) or conjugate-gradient row solves, the Gramian trick that makes every unobserved
//     pair a weak negative at O(nnz·k² + n·k³) per sweep, and optional frequency-scaled
//     regularisation (Rendle et al. 2021).
//   - ALSModel: explicit ALS on rating values with weighted-λ regularisation (Zhou et al. 2008).
//
// Both models serve by fold-in: the user vector is solved at request time from the live history
// against the fixed item factors (the same row solve as training), so events that arrived after
// training count without retraining, and users unseen in training are served as well as known
// ones. Training is deterministic for a seed: each row's solve depends only on the other side's
// factors (and, for conjugate gradient, on the row's own previous value), so the number of
// workers never changes the result.
//
// Factors are stored as float32 (row-major, one row per user or item); the normal equations are
// solved in float64. Models are saved in artifact containers of kind "ials" and "als".
package als
