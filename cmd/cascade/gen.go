package main

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cascade-rec/cascade/synth"
)

// genCmd writes a synthetic world. Its defaults are synth.DefaultConfig's (a test keeps them in
// step).
type genCmd struct {
	Out         string  `required:"" type:"path" help:"Directory to write (created if missing; the files it writes are replaced)."`
	Users       int     `default:"6000" help:"Number of users."`
	Items       int     `default:"4000" help:"Number of items."`
	Events      int     `default:"1000000" help:"Number of events (consumptions with a rating)."`
	Seed        int64   `default:"1" help:"Random seed: the same flags and seed give the same files."`
	Genres      int     `default:"18" help:"Number of genres."`
	Factors     int     `default:"16" help:"Latent dimensions of the preference model."`
	Days        int     `default:"1095" help:"Length of the time window in days."`
	Drift       float64 `default:"0.5" help:"How far a user's long-term taste moves towards a second taste over the window, in [0, 1]."`
	Impressions int     `default:"20000" help:"Number of logged requests in impressions.jsonl (0 for none)."`
	Zipf        float64 `default:"1" help:"Zipf exponent of item popularity."`
	ShortTerm   float64 `default:"0.4" help:"Weight of the short-term interest (mean of the last few items) in the affinity, in [0, 1]."`
	NewItems    float64 `default:"0.15" help:"Share of the items released during the window, in [0, 1)."`
	EventTypes  bool    `help:"Add an event column to events.csv (view, cart, buy: from the rating 1–3, 4, 5)."`
}

// Validate checks the flags before anything runs, naming the flag at fault.
func (c *genCmd) Validate() error {
	var errs []error
	positive := func(flag string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be positive, got %d", flag, v))
		}
	}
	within := func(flag string, v, lo, hi float64, closedHi bool) {
		if math.IsNaN(v) || v < lo || v > hi || (!closedHi && v == hi) {
			bracket := "]"
			if !closedHi {
				bracket = ")"
			}
			errs = append(errs, fmt.Errorf("--%s must be in [%g, %g%s, got %g", flag, lo, hi, bracket, v))
		}
	}
	positive("users", c.Users)
	positive("items", c.Items)
	positive("events", c.Events)
	positive("genres", c.Genres)
	positive("factors", c.Factors)
	positive("days", c.Days)
	if c.Impressions < 0 {
		errs = append(errs, fmt.Errorf("--impressions must not be negative, got %d", c.Impressions))
	}
	within("drift", c.Drift, 0, 1, true)
	if !(c.Zipf >= 0) || math.IsInf(c.Zipf, 1) {
		errs = append(errs, fmt.Errorf("--zipf must be a non-negative number, got %g", c.Zipf))
	}
	within("short-term", c.ShortTerm, 0, 1, true)
	within("new-items", c.NewItems, 0, 1, false)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	cfg := c.config()
	if limit := cfg.MaxEvents(); int64(c.Events) > limit {
		return fmt.Errorf("--events must be at most %d for %d users and %d items (no user consumes an item twice, and each takes at most %d), got %d",
			limit, c.Users, c.Items, cfg.MaxUserEvents(), c.Events)
	}
	return cfg.Validate()
}

func (c *genCmd) config() synth.Config {
	cfg := synth.DefaultConfig()
	cfg.Users, cfg.Items, cfg.Events, cfg.Seed = c.Users, c.Items, c.Events, c.Seed
	cfg.Genres, cfg.Factors, cfg.Days = c.Genres, c.Factors, c.Days
	cfg.Drift, cfg.Impressions, cfg.Zipf = c.Drift, c.Impressions, c.Zipf
	cfg.ShortTermWeight, cfg.NewItems = c.ShortTerm, c.NewItems
	cfg.EventTypes = c.EventTypes
	return cfg
}

// Run generates the world and writes it to --out.
func (c *genCmd) Run(g *Globals) error {
	start := time.Now()
	w, err := synth.Generate(g.Ctx, c.config())
	if err != nil {
		return err
	}
	generated := time.Since(start)
	if err := w.WriteDir(c.Out); err != nil {
		return err
	}
	g.Log.Info("generated synthetic world", "dir", c.Out, "generate", generated.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(g.Stdout, "wrote %s: %d users, %d items, %d events, %d logged requests\n", c.Out, len(w.Users), len(w.Items), len(w.Events), len(w.Impressions))
	return nil
}
