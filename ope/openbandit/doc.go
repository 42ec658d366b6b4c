// Package openbandit reads the Open Bandit Dataset (Saito, Aihara, Matsutani & Narita 2021,
// "Open Bandit Dataset and Pipeline") and evaluates its two logging policies against each other
// with package ope.
//
// # Data
//
// A data set directory holds, per logging policy (random, bts) and campaign (all, men, women),
// POLICY/CAMPAIGN/CAMPAIGN.csv, the impressions, and POLICY/CAMPAIGN/item_context.csv, one row
// per item. An impression row has an unnamed index column, timestamp, item_id, position (1–3:
// left, centre, right), click (0/1), propensity_score (the logging policy's probability of that
// item at that position, called action_prob in the upstream README), and hashed user features
// and user–item affinities, which this package does not read. A campaign is evaluated when both
// policies' logs are present.
//
// # Policies
//
// Each row becomes an ope.Row with Action = item_id, Position = position − 1, Reward = click and
// Propensity = propensity_score: a slate of three is judged slot by slot, as OBP does, and the
// value estimated is the click rate per impression.
//
// The uniform-random policy chooses every item with probability 1/items at every position,
// whatever the context (its log's propensities are exactly that).
//
// The Bernoulli Thompson sampling policy (BTS) is context-free but was not fixed: its Beta
// posteriors were updated every few minutes during the week, so the logged probability of one
// item at one position moves over a wide range within a day. OBP evaluates BTS with action
// probabilities simulated from the production prior it ships in its source code; the data set
// carries no posteriors, only each logged row's own probability. This package estimates the
// probabilities BTS had for the random log's rows from the BTS log itself, as the week's
// average: π̂(a | k) = n_bts(a, k) / n_bts(k), the share of the BTS log's impressions at
// position k that showed item a (FrequencyPolicy). That is the unbiased estimate of the
// time-averaged policy, needs no random numbers, and is the same for every context, as BTS is.
// It assumes that the click rates did not drift during the week in step with BTS's changes.
// PolicySD measures the estimate's own uncertainty: the standard deviation of each estimator
// when π̂ is recomputed from bootstrap resamples of the BTS log (seeded), with the random log
// held fixed.
//
// # Directions
//
// For each campaign, random_to_bts estimates BTS's click rate from the random log (with π̂), and
// bts_to_random estimates the random policy's click rate from the BTS log (its logged
// propensities as the weights' denominators). Each is set beside the target policy's own logged
// mean click rate, the on-policy value, with its interval.
package openbandit
