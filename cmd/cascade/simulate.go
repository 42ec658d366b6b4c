package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/simulate"
)

// simulateCmd runs the closed feedback loop over the synthetic world (package simulate).
type simulateCmd struct {
	Config  string `type:"existingfile" help:"Simulation file (YAML) over the defaults: seed, world {users, items, events}, pipeline, rounds, users_per_round, k, candidates, exploration, epsilon, temperature, retrain, reranker."`
	Rounds  int    `default:"0" help:"Rounds (simulated days); 0 keeps the file's (default 8)."`
	Seed    uint64 `default:"0" help:"Seed of the world, the bundle, the users, the clicks and the exploration; 0 keeps the file's (default 1)."`
	Users   int    `default:"0" help:"Users served per round; 0 keeps the file's (default 300)."`
	JSON    string `name:"json" type:"path" help:"Write every round to this file: {rounds: [{round, reward, junk_share, coverage, …}], summary, …}."`
	Out     string `type:"path" help:"Directory for the world, the bundle and the per-round served logs (rounds/round-NNN.jsonl); default a new temporary directory, kept."`
	Workers int    `default:"0" help:"Goroutines serving users (0: GOMAXPROCS); never changes the result."`
}

// Run loads the configuration, runs the rounds, prints the table and writes the JSON.
func (c *simulateCmd) Run(g *Globals) error {
	cfg := simulate.DefaultConfig()
	if c.Config != "" {
		var err error
		if cfg, err = simulate.LoadConfig(c.Config); err != nil {
			return err
		}
	}
	if c.Rounds != 0 {
		cfg.Rounds = c.Rounds
	}
	if c.Seed != 0 {
		cfg.Seed = c.Seed
	}
	if c.Users != 0 {
		cfg.UsersPerRound = c.Users
	}
	if c.Workers != 0 {
		cfg.Workers = c.Workers
	}
	if c.Rounds < 0 || c.Users < 0 || c.Workers < 0 {
		return fmt.Errorf("--rounds, --users and --workers must not be negative")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	out := c.Out
	if out == "" {
		dir, err := os.MkdirTemp("", "cascade-simulate-")
		if err != nil {
			return err
		}
		out = dir
	}
	g.Log.Info("simulating", "out", out, "rounds", cfg.Rounds, "seed", cfg.Seed, "users_per_round", cfg.UsersPerRound)
	rep, err := simulate.Run(g.Ctx, cfg, simulate.Options{OutDir: out, Logger: g.Log})
	if err != nil {
		return err
	}
	printSimulation(g, rep)
	if c.JSON != "" {
		return g.writeJSON(c.JSON, rep)
	}
	return nil
}

// printSimulation prints one line per round: each policy's reward, then junk share and coverage.
func printSimulation(g *Globals, rep *simulate.Report) {
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "round\t")
	for _, p := range rep.Policies {
		fmt.Fprintf(tw, "%s\t", p)
	}
	fmt.Fprint(tw, "cascade/oracle\tcandidate ceiling\tjunk cascade\tjunk popularity\tcoverage cascade\t\n")
	for _, r := range rep.Rounds {
		fmt.Fprintf(tw, "%d\t", r.Round)
		for _, p := range rep.Policies {
			fmt.Fprintf(tw, "%.4f\t", r.Reward[p])
		}
		fmt.Fprintf(tw, "%.3f\t%.4f\t%.3f\t%.3f\t%.3f\t\n", r.RewardVsOracle["cascade"], r.CandidateCeiling["cascade"], r.JunkShare["cascade"], r.JunkShare["popularity"], r.Coverage["cascade"])
	}
	tw.Flush()
	s := rep.Summary
	fmt.Fprintf(g.Stdout, "cascade: first round at ≥ 90%% of the oracle: %d (−1: none); best %.3f, final %.3f of the oracle; final %.3f× popularity\n",
		s.FirstRoundAt90, s.BestVsOracle, s.FinalVsOracle, s.FinalVsPopularity)
}
