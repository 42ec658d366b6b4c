// Package ope estimates, from a log collected by one policy, the expected reward another policy
// would have earned: off-policy evaluation for contextual bandits and for slates judged slot by
// slot.
//
// # Data
//
// A Log is a list of Rows. Each row is one logged decision: the context's features, the action
// taken, the position (slot) it was shown in, the reward observed, and the logging policy's
// propensity, the probability with which it chose that action for that position in that context.
// A slate of k items is k rows, one per slot, each with the marginal probability that the logging
// policy put that item in that slot (the Open Bandit Dataset and OBP treat positions this way).
// A plain bandit has one position.
//
// The evaluated policy is a Policy: it gives π(a | row), the probability that it would choose
// action a for the row's context and position. The row index is passed along, so a policy may
// be a precomputed table per row as well as a function of the context. The doubly robust
// estimator needs the whole distribution over actions (Distribution).
//
// # Estimand
//
//	V(π) = E[ Σ_a π(a | x, k) q(x, a, k) ]
//
// the expected reward per row, where the context x and the position k follow the log and
// q(x, a, k) is the expected reward of action a there. With w_i = π(a_i | x_i, k_i) / p_i the
// importance weight of row i (p_i its logged propensity), optionally clipped to min(w_i, λ):
//
//	IPS    V = (1/n) Σ w_i r_i                                            (Horvitz–Thompson)
//	SNIPS  V = Σ w_i r_i / Σ w_i                       (Swaminathan & Joachims 2015)
//	DR     V = (1/n) Σ [ Σ_a π(a | x_i, k_i) q̂(x_i, a, k_i) + w_i (r_i − q̂(x_i, a_i, k_i)) ]
//	                                                            (Dudík, Langford & Li 2011)
//
// IPS and DR are unbiased when the propensities are right and π is supported by the logging
// policy (and, for DR, whatever q̂ is). SNIPS trades a small bias, O(1/n), for a lower variance
// and is invariant to a constant shift of the rewards. Clipping (Options.Clip) bounds the weights
// and so the variance, at the cost of a bias (downwards for non-negative rewards); it is off by
// default.
//
// # The direct model
//
// DR's q̂ is a RewardModel fitted on the log itself by cross-fitting: the rows are split into
// Options.Folds folds by a seeded permutation, and the terms of the rows of each fold use a
// model fitted on the other folds only, so no row is judged by a model that saw its reward
// (Chernozhukov et al. 2018). ShrunkMean (empirical-Bayes shrunk mean reward per action and
// position, no context) and Ridge (a ridge regression per action on the context and the
// position) are provided; any RewardModel plugs in.
//
// # Intervals
//
// Every Estimate carries a normal-approximation interval: each estimator is a ratio of means
// of per-row terms, Σ u_i / Σ v_i (v_i = 1 for IPS and DR, v_i = w_i for SNIPS), and its
// standard error is that of the mean of the per-row influence terms (u_i − V v_i) / mean(v),
// with the sample standard deviation (n − 1). For IPS and DR that is the textbook
// sd(ψ_i)/√n; for SNIPS it is the delta method. Options.Bootstrap > 0 adds a percentile
// bootstrap interval over rows, from a generator seeded with Options.Seed (the same resamples
// for every estimator). The DR bootstrap holds the cross-fitted q̂ fixed: it resamples the
// per-row terms and does not refit the model. The level is Options.Level (0.95 by default).
//
// # Determinism
//
// For a fixed log, policy, model and Options.Seed every result is the same on every run and
// machine: the folds and the bootstrap draw from math/rand/v2's PCG seeded with Options.Seed, and
// the loops run in row order.
//
// The sub-package openbandit reads the Open Bandit Dataset (Saito et al. 2021) and evaluates its
// two logging policies against each other.
package ope
