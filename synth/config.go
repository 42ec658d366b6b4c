// Package synth owns Cascade's synthetic world: a ground-truth preference model (genre and item
// factors, Zipf popularity, long-term tastes that drift, a short-term interest in the last few
// items consumed), the event stream, item and user attributes and logged impressions it
// generates, and the writer of the generic on-disk format the dataset loaders read. The project's
// tests and its demo run on these worlds; the truth model lets tests check what a ranker learned.
//
// Generate builds a World from a Config (DefaultConfig is MovieLens-1M sized, Small a world for
// unit tests); World.WriteDir writes events.csv, items.csv, users.csv, truth.json,
// impressions.jsonl and a README.md; (*Truth).Affinity is the true preference of a user for an
// item at a time given the recent history, and ReadTruth reads it back from truth.json.
//
// Generation is deterministic for a Config (same files byte for byte on a given platform): every
// user and every logged request has its own seeded random source, so the work can be spread over
// cores without changing the result.
package synth

import (
	"errors"
	"fmt"
	"math"
)

// Config sets the size of a world and the parameters of its model. Start from DefaultConfig or
// Small and change what matters; Validate says what is out of range.
type Config struct {
	Seed   int64 `json:"seed"`
	Users  int   `json:"users"`
	Items  int   `json:"items"`
	Events int   `json:"events"` // exact number of events generated

	Genres  int   `json:"genres"`
	Factors int   `json:"factors"` // K, the latent dimension
	Start   int64 `json:"start"`   // Unix seconds at which the time window opens
	Days    int   `json:"days"`    // length of the time window

	// Preference model (see the package README written by WriteDir for the formulas).
	Zipf        float64 `json:"zipf"`        // popularity logit of the item of popularity rank r is −Zipf·ln r
	Temperature float64 `json:"temperature"` // τ: choice logit = affinity/τ + popularity logit
	ItemNoise   float64 `json:"item_noise"`  // expected norm of an item's deviation from its genres' mean
	UserNoise   float64 `json:"user_noise"`  // expected norm of a taste's deviation from its genre mix
	// ItemBias scales the item bias: ItemBias·(1 − 2·popularity percentile + N(0, 0.5²)).
	ItemBias    float64 `json:"item_bias"`
	TasteGenres int     `json:"taste_genres"`
	// Drift is how far a user's long-term taste moves from its start to its end vector per Days
	// of the user's life (capped at all the way).
	Drift           float64 `json:"drift"`
	ShortTermWeight float64 `json:"short_term_weight"` // β: weight of the recent-items interest
	HistoryLen      int     `json:"history_len"`       // H: how many recent items form that interest

	// Population and activity.
	InitialUsers  float64 `json:"initial_users"`   // share of users present from the start; the rest arrive uniformly
	ActivitySigma float64 `json:"activity_sigma"`  // σ of the lognormal per-user activity
	MinUserEvents int     `json:"min_user_events"` // every user gets at least this many (when Events allows)
	// MaxUserShare caps one user's events as a share of the catalog available at the start.
	MaxUserShare  float64 `json:"max_user_share"`
	ActiveDays    float64 `json:"active_days"`    // mean of a user's (exponential) active span
	SessionEvents float64 `json:"session_events"` // mean events per session
	SessionGap    float64 `json:"session_gap"`    // mean seconds between events of a session
	NewItems      float64 `json:"new_items"`      // share of items released during the window

	// Ratings: round(RatingBias + RatingScale·affinity + RatingNoise·N(0,1)) clamped to 1..5.
	RatingBias  float64 `json:"rating_bias"`
	RatingScale float64 `json:"rating_scale"`
	RatingNoise float64 `json:"rating_noise"`

	// Logged impressions.
	Impressions          int     `json:"impressions"`            // number of logged requests
	PoolSize             int     `json:"pool_size"`              // candidates the logging policy ranks
	Shown                int     `json:"shown"`                  // items shown per request
	PolicyPopWeight      float64 `json:"policy_pop_weight"`      // policy logit weight of the popularity logit
	PolicyAffinityWeight float64 `json:"policy_affinity_weight"` // policy logit weight of its noisy affinity/τ
	PolicyNoise          float64 `json:"policy_noise"`           // expected norm of the policy's error on the start taste
	ClickScale           float64 `json:"click_scale"`            // attraction = σ(ClickScale·affinity + ClickBias)
	ClickBias            float64 `json:"click_bias"`
	PositionDecay        float64 `json:"position_decay"` // examination probability at position k is k^−PositionDecay

	// EventTypes adds an event column to events.csv, an e-commerce-like mix whose intent follows
	// the rating (EventType): the weighting and filtering of event types can be tried on a world
	// whose stronger signals are known to mean stronger preference.
	EventTypes bool `json:"event_types,omitempty"`

	// Workers bounds the goroutines used; 0 means GOMAXPROCS. It never changes the output.
	Workers int `json:"-"`
}

// DefaultConfig returns a world the size of MovieLens 1M: 6,000 users, 4,000 items, 1M events
// over three years, 20,000 logged requests.
func DefaultConfig() Config {
	return Config{
		Seed:    1,
		Users:   6000,
		Items:   4000,
		Events:  1_000_000,
		Genres:  18,
		Factors: 16,
		Start:   1577836800, // 2020-01-01T00:00:00Z
		Days:    1095,

		Zipf:            1,
		Temperature:     0.1,
		ItemNoise:       0.5,
		UserNoise:       0.3,
		ItemBias:        0.15,
		TasteGenres:     3,
		Drift:           0.5,
		ShortTermWeight: 0.4,
		HistoryLen:      5,

		InitialUsers:  0.3,
		ActivitySigma: 1.1,
		MinUserEvents: 5,
		MaxUserShare:  0.5,
		ActiveDays:    540,
		SessionEvents: 12,
		SessionGap:    120,
		NewItems:      0.15,

		RatingBias:  2.4,
		RatingScale: 2.5,
		RatingNoise: 0.8,

		Impressions:          20000,
		PoolSize:             50,
		Shown:                10,
		PolicyPopWeight:      0.8,
		PolicyAffinityWeight: 0.5,
		PolicyNoise:          0.5,
		ClickScale:           4,
		ClickBias:            -2.5,
		PositionDecay:        1,
	}
}

// Small returns a tiny world for unit tests of other packages: 600 users, 500 items, 20,000
// events over a year, 2,000 logged requests, generated in well under a second.
func Small(seed int64) Config {
	c := DefaultConfig()
	c.Seed = seed
	c.Users, c.Items, c.Events = 600, 500, 20_000
	c.Genres = 12
	c.Days, c.ActiveDays = 365, 270
	c.Impressions = 2000
	return c
}

// MaxUserEvents is the most events one user may have: MaxUserShare of the catalog available at
// Start, so that the no-repeat rule can always be met.
func (c Config) MaxUserEvents() int {
	return max(1, int(c.MaxUserShare*(1-c.NewItems)*float64(c.Items)))
}

// MaxEvents is the most events Validate accepts for the numbers of users and items.
func (c Config) MaxEvents() int64 { return int64(c.Users) * int64(c.MaxUserEvents()) }

// Validate reports every parameter out of range, naming the Config field.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, field string, v any, want string) {
		if !ok {
			errs = append(errs, fmt.Errorf("synth: %s = %v, want %s", field, v, want))
		}
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	unit := func(x float64) bool { return x >= 0 && x <= 1 }
	check(c.Users > 0, "Users", c.Users, "> 0")
	check(c.Items > 0, "Items", c.Items, "> 0")
	check(c.Events > 0, "Events", c.Events, "> 0")
	check(c.Genres > 0, "Genres", c.Genres, "> 0")
	check(c.Factors > 0, "Factors", c.Factors, "> 0")
	check(c.Days > 0, "Days", c.Days, "> 0")
	check(c.Start >= 0, "Start", c.Start, ">= 0")
	check(finite(c.Zipf) && c.Zipf >= 0, "Zipf", c.Zipf, ">= 0")
	check(finite(c.Temperature) && c.Temperature > 0, "Temperature", c.Temperature, "> 0")
	check(finite(c.ItemNoise) && c.ItemNoise >= 0, "ItemNoise", c.ItemNoise, ">= 0")
	check(finite(c.UserNoise) && c.UserNoise >= 0, "UserNoise", c.UserNoise, ">= 0")
	check(finite(c.ItemBias) && c.ItemBias >= 0, "ItemBias", c.ItemBias, ">= 0")
	check(c.TasteGenres > 0, "TasteGenres", c.TasteGenres, "> 0")
	check(unit(c.Drift), "Drift", c.Drift, "in [0, 1]")
	check(unit(c.ShortTermWeight), "ShortTermWeight", c.ShortTermWeight, "in [0, 1]")
	check(c.HistoryLen > 0, "HistoryLen", c.HistoryLen, "> 0")
	check(unit(c.InitialUsers), "InitialUsers", c.InitialUsers, "in [0, 1]")
	check(finite(c.ActivitySigma) && c.ActivitySigma >= 0, "ActivitySigma", c.ActivitySigma, ">= 0")
	check(c.MinUserEvents >= 0, "MinUserEvents", c.MinUserEvents, ">= 0")
	check(c.MaxUserShare > 0 && c.MaxUserShare <= 1, "MaxUserShare", c.MaxUserShare, "in (0, 1]")
	check(finite(c.ActiveDays) && c.ActiveDays > 0, "ActiveDays", c.ActiveDays, "> 0")
	check(finite(c.SessionEvents) && c.SessionEvents >= 1, "SessionEvents", c.SessionEvents, ">= 1")
	check(finite(c.SessionGap) && c.SessionGap >= 0, "SessionGap", c.SessionGap, ">= 0")
	check(c.NewItems >= 0 && c.NewItems < 1, "NewItems", c.NewItems, "in [0, 1)")
	check(finite(c.RatingBias), "RatingBias", c.RatingBias, "finite")
	check(finite(c.RatingScale), "RatingScale", c.RatingScale, "finite")
	check(finite(c.RatingNoise) && c.RatingNoise >= 0, "RatingNoise", c.RatingNoise, ">= 0")
	check(c.Impressions >= 0, "Impressions", c.Impressions, ">= 0")
	check(c.Shown > 0, "Shown", c.Shown, "> 0")
	check(c.PoolSize >= c.Shown, "PoolSize", c.PoolSize, fmt.Sprintf(">= Shown (%d)", c.Shown))
	check(finite(c.PolicyPopWeight), "PolicyPopWeight", c.PolicyPopWeight, "finite")
	check(finite(c.PolicyAffinityWeight), "PolicyAffinityWeight", c.PolicyAffinityWeight, "finite")
	check(finite(c.PolicyNoise) && c.PolicyNoise >= 0, "PolicyNoise", c.PolicyNoise, ">= 0")
	check(finite(c.ClickScale), "ClickScale", c.ClickScale, "finite")
	check(finite(c.ClickBias), "ClickBias", c.ClickBias, "finite")
	check(finite(c.PositionDecay) && c.PositionDecay >= 0, "PositionDecay", c.PositionDecay, ">= 0")
	check(c.Workers >= 0, "Workers", c.Workers, ">= 0")
	if c.Users > 0 && c.Items > 0 && c.Events > 0 && c.MaxUserShare > 0 && c.NewItems >= 0 && c.NewItems < 1 {
		if limit := c.MaxEvents(); int64(c.Events) > limit {
			errs = append(errs, fmt.Errorf("synth: Events = %d, want <= %d: no user consumes an item twice, and each takes at most %d items", c.Events, limit, c.MaxUserEvents()))
		}
	}
	return errors.Join(errs...)
}
