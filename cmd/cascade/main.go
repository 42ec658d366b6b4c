// Command cascade trains, evaluates and serves Cascade recommendation pipelines: one binary with a
// subcommand per job (run `cascade --help`).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Globals are shared by every subcommand's Run method.
type Globals struct {
	Ctx    context.Context `kong:"-"`
	Log    *slog.Logger    `kong:"-"`
	Stdout io.Writer       `kong:"-"`

	Quiet      bool        `short:"q" help:"Log warnings and errors only."`
	NoProgress bool        `help:"Disable progress bars and progress log lines."`
	Version    versionFlag `help:"Print the version (module version, VCS revision, Go version) and exit."`
}

type cli struct {
	Globals

	Demo      demoCmd      `cmd:"" help:"Run the main job end to end on an embedded default: generate a synthetic world, train, replay, print the table."`
	Data      dataCmd      `cmd:"" help:"Fetch public data sets (MovieLens) into a local cache."`
	Train     trainCmd     `cmd:"" help:"Train every model a pipeline file names (tuning grids on the validation split) and write a model bundle."`
	Replay    replayCmd    `cmd:"" help:"Replay the test split (replay-v1) through a trained pipeline and report metrics."`
	Gbdt      gbdtCmd      `cmd:"" help:"Train, predict with and evaluate LightGBM-format gradient-boosted tree models."`
	ExportLtr exportLTRCmd `cmd:"" name:"export-ltr" help:"Write a pipeline's ranker training data (candidates, features, labels at the validation events) in LightGBM's format."`
	Gen       genCmd       `cmd:"" help:"Generate a synthetic world (events, items, users, ground truth, impressions) in the generic format."`
	Serve     serveCmd     `cmd:"" help:"Serve a trained pipeline over HTTP: recommendations, events, similar items, metrics, hot reload."`
	Ope       opeCmd       `cmd:"" help:"Off-policy evaluation on logged bandit data (Open Bandit Dataset): IPS, SNIPS and DR with intervals beside the on-policy value."`
	Variants  variantsCmd  `cmd:"" help:"Compare the variants of a served log: click rates with intervals over users, and each variant's difference from the control."`
	Simulate  simulateCmd  `cmd:"" help:"Closed feedback loop over the synthetic world: policies serve slates, the world clicks, the ranker retrains from impressions; true reward per round."`
	Coat      coatCmd      `cmd:"" help:"Selection bias on Coat: explicit MF on the self-selected train ratings, naive and inverse-propensity weighted, MSE and MAE on the random test ratings."`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exited carries the code of a kong exit (--help, --version) out of the parser to run.
type exited int

func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exited)
			if !ok {
				panic(r)
			}
			code = int(e)
		}
	}()
	var c cli
	parser, err := kong.New(&c,
		kong.Exit(func(code int) { panic(exited(code)) }),
		kong.Name("cascade"),
		kong.Description("Cascade: a multi-stage recommendation ranking framework (candidates → features → rankers), trained and served by one binary."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		gbdtDefaults(),
	)
	if err != nil {
		fmt.Fprintln(stderr, "cascade:", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(stderr, "cascade:", err)
		return 2
	}
	level := slog.LevelInfo
	if c.Quiet {
		level = slog.LevelWarn
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c.Globals.Ctx = ctx
	c.Globals.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	c.Globals.Stdout = stdout
	slog.SetDefault(c.Globals.Log)
	if err := kctx.Run(&c.Globals); err != nil {
		fmt.Fprintln(stderr, "cascade:", err)
		return 1
	}
	return 0
}
