package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// TrainEnv is what a model kind's trainer sees: the events of one training window and the
// catalog they define.
type TrainEnv struct {
	Events   []dataset.Event // time-ordered, all inside the window
	NumUsers int             // users [0, NumUsers) occur in Events
	NumItems int             // the catalog [0, NumItems)
	Dataset  *dataset.Dataset
	Logger   *slog.Logger
	Progress progress.Options
	Workers  int
	// Weights and Targets are the pipeline file's events section for this data (nil: every event
	// weighs 1, every event is a target). Models that count interactions weigh them (iALS);
	// models that learn to predict events learn only Targets (the two-tower).
	Weights dataset.TypeWeights
	Targets dataset.TypeSet
	// Impressions is the file's impressions log (read when ranking_data's source or a
	// two-tower's examples is impressions), every slate: a model keeps those of its window.
	Impressions []ranker.Impression
}

// Model is a trained model as the pipeline holds it.
type Model interface {
	candidates.Source
	// Save writes the model's artifact to path and returns its SHA-256.
	Save(path string) (string, error)
}

// Options tune Train.
type Options struct {
	Logger   *slog.Logger
	Progress progress.Options
	// Workers bounds parallelism of training and validation replay; 0 means GOMAXPROCS.
	Workers int
	// RankingData, when set, receives the ranker training set (all requests, all proposed
	// candidates) right after it is built, e.g. to export it for LightGBM.
	RankingData func(*ranker.Set) error
	// OnlyRankingData stops Train once the ranking set is built: no refit, no rankers, no choice
	// of the ranking stack (a ranking_data grid's first values are used).
	OnlyRankingData bool

	impressions []ranker.Impression // source impressions: the log, read once	// Cache, when set, keeps trained first-stage models: one already trained on the same window
	// with the same parameters and code is loaded instead (manifest.json marks it "cached").
	Cache *ModelCache

	// maxSteps caps the validation steps a trial replays (0: maxValidationSteps); tests lower it.
	maxSteps int

	plan   *plan       // the run's units of work, for "trial 3/12, about 14 min left"
	events eventPolicy // the file's events section resolved against the data
	costs  *costMeter  // what each stage used, for the manifest
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// Train trains every model of cfg on ds and writes the bundle (artifacts + manifest.json) to
// outDir. Models with parameter grids are tuned first: each combination is trained on the
// validation split's train part and replayed (replay-v1) on its test part; the best by
// cfg.Tuning.Metric is refit on the whole train split. The test split is never seen.
func Train(ctx context.Context, cfg *Config, ds *dataset.Dataset, outDir string, opt Options) (*Manifest, error) {
	log := opt.logger()
	if err := cfg.notRatings("train"); err != nil {
		return nil, err
	}
	opt.costs = newCostMeter(log)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	valid := dataset.TemporalSplit(split.Train, cfg.Split.ValidationFraction)
	if len(valid.Train) == 0 || len(valid.Test) == 0 || len(split.Test) == 0 {
		return nil, fmt.Errorf("train: %s has too few distinct timestamps to split (train %d, validation %d, test %d events)", ds.Name, len(valid.Train), len(valid.Test), len(split.Test))
	}
	man := &Manifest{
		Format:   ManifestFormat,
		Pipeline: cfg.Name,
		Config:   cfg.source,
		Created:  time.Now().UTC().Format(time.RFC3339),
		Dataset:  describeDataset(ds),
		Split: SplitInfo{
			Cut: split.Cut, TrainEvents: len(split.Train), TestEvents: len(split.Test), TrainItems: split.TrainItems, TrainUsers: split.TrainUsers,
			ValidationCut: valid.Cut, ValidationTrainEvents: len(valid.Train), ValidationEvents: len(valid.Test),
		},
		Models: map[string]*ModelEntry{},
	}
	if cfg.RankingData.Source == SourceImpressions && cfg.Features != nil && (len(cfg.Rankers) > 0 || opt.OnlyRankingData) || towerLearnsFromImpressions(cfg) {
		// Read before any model trains: a missing log fails at once.
		var err error
		if opt.impressions, err = loadImpressions(cfg, ds); err != nil {
			return nil, err
		}
		log.Info("read the impressions log", "slates", len(opt.impressions))
	}
	events, err := cfg.resolveEvents(ds, nil)
	if err != nil {
		return nil, err
	}
	opt.events = events
	opt.plan = newPlan()
	if err := planTrain(cfg, opt); err != nil {
		return nil, err
	}
	opt.plan.log(log)
	validEnv, fullEnv := opt.env(valid, ds), opt.env(split, ds)

	// The validation fallback answers steps with no known history item, as replay-v1 asks.
	validFallback, _, err := trainModel(ctx, opt.Cache, "popularity", validEnv, kinds["popularity"].newParams())
	if err != nil {
		return nil, err
	}
	opt.costs.mark("split")
	// validModels are the first-stage models trained on the validation split's train part: the
	// candidate and feature stages that ranker training data is built with.
	validModels := map[string]Model{}
	chosenParams := map[string]any{}
	for _, name := range cfg.ModelNames() {
		mc := cfg.Models[name]
		kind := kinds[mc.Type]
		trials, err := cfg.Grid(name)
		if err != nil {
			return nil, err
		}
		entry := &ModelEntry{Type: mc.Type}
		best := 0
		if len(trials) > 1 {
			log.Info("tuning on the validation split", "model", name, "type", mc.Type, "combinations", len(trials), "metric", cfg.Tuning.Metric)
			t := &tuner{ctx: ctx, cfg: cfg, name: name, kind: kind, typ: mc.Type, env: validEnv, valid: valid,
				fallback: validFallback, ds: ds, opt: opt, entry: entry, trained: map[string]Model{}}
			search := t.grid
			if cfg.halves(trials, kind) {
				search = t.halving
			}
			var score float64
			if best, score, validModels[name], err = search(trials); err != nil {
				return nil, err
			}
			log.Info("chosen", "model", name, "params", trials[best].Label(), cfg.Tuning.Metric, fmt.Sprintf("%.5f", score))
		}
		if _, ok := validModels[name]; !ok && (cfg.Features != nil || len(cfg.Rankers) > 0) {
			if validModels[name], _, err = trainModel(ctx, opt.Cache, mc.Type, validEnv, trials[best].Params); err != nil {
				return nil, fmt.Errorf("model %s: %w", name, err)
			}
			opt.costs.mark("validation-window " + name)
		}
		if len(trials) > 1 {
			opt.costs.mark("tune " + name)
		}
		entry.Chosen = trials[best].Values
		entry.Params = trials[best].Params
		chosenParams[name] = trials[best].Params
		if opt.OnlyRankingData {
			continue
		}
		start := time.Now()
		m, cached, err := trainModel(ctx, opt.Cache, mc.Type, fullEnv, trials[best].Params)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", name, err)
		}
		entry.TrainSeconds, entry.Cached = time.Since(start).Seconds(), cached
		if r, ok := m.(interface{ Info() any }); ok {
			entry.Info = r.Info()
		}
		if err := saveModel(outDir, name, mc.Type, m, entry); err != nil {
			return nil, err
		}
		entry.DataSpan = span(split.Train)
		man.Models[name] = entry
		prog, left := opt.plan.finish(unitRefit, time.Since(start))
		log.Info("trained", "model", name, "type", mc.Type, "refit", prog, "seconds", fmt.Sprintf("%.2f", entry.TrainSeconds), "left", left)
		opt.costs.mark("refit " + name)
	}
	if cfg.FallbackModel() == fallbackName && !opt.OnlyRankingData {
		m, _, err := trainModel(ctx, opt.Cache, "popularity", fullEnv, kinds["popularity"].newParams())
		if err != nil {
			return nil, err
		}
		entry := &ModelEntry{Type: "popularity", DataSpan: span(split.Train)}
		if err := saveModel(outDir, fallbackName, "popularity", m, entry); err != nil {
			return nil, err
		}
		man.Models[fallbackName] = entry
		opt.costs.mark("fallback")
	}
	if cfg.FallbackModel() == fallbackName {
		validModels[fallbackName] = validFallback
	}
	if cfg.Features != nil {
		if err := trainRankingStages(ctx, cfg, ds, split, valid, validModels, chosenParams, outDir, man, opt); err != nil {
			return nil, err
		}
	}
	man.Costs = opt.costs.costs
	if err := man.write(outDir); err != nil {
		return nil, err
	}
	return man, nil
}

// env is the training environment of split s's train part.
func (o Options) env(s dataset.Split, ds *dataset.Dataset) TrainEnv {
	return TrainEnv{
		Events: s.Train, NumUsers: s.TrainUsers, NumItems: s.TrainItems, Dataset: ds,
		Logger: o.logger(), Progress: o.Progress, Workers: o.Workers,
		Weights: o.events.weights, Targets: o.events.positives, Impressions: o.impressions,
	}
}

// fallbackName is the bundle name of the popularity model trained when the file names no fallback.
const fallbackName = "_fallback"

func saveModel(dir, name, typ string, m Model, e *ModelEntry) error {
	e.Artifact = name + "." + typ
	path := filepath.Join(dir, e.Artifact)
	sum, err := m.Save(path)
	if err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	e.SHA256 = sum
	return nil
}

func pick(m map[string]float64, keys ...string) map[string]float64 {
	out := map[string]float64{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func span(events []dataset.Event) DataSpan {
	if len(events) == 0 {
		return DataSpan{}
	}
	return DataSpan{From: events[0].Time, To: events[len(events)-1].Time, Events: len(events)}
}

// planTrain counts the units a Train runs: each model's grid trials, the stack selection's
// trials, and the refits.
func planTrain(cfg *Config, opt Options) error {
	for _, name := range cfg.ModelNames() {
		trials, err := cfg.Grid(name)
		if err != nil {
			return err
		}
		if len(trials) > 1 {
			kind := kinds[cfg.Models[name].Type]
			n := len(trials)
			if cfg.halves(trials, kind) {
				n = halvingTrials(trials, kind, cfg.Tuning.Eta)
			}
			opt.plan.add(unitTrial, n)
		}
	}
	if cfg.Features != nil && len(cfg.Rankers) > 0 && !opt.OnlyRankingData {
		stacks, err := cfg.rankingStacks()
		if err != nil {
			return err
		}
		if n := len(stacks) * len(cfg.RankingData.grid()); n > 1 {
			opt.plan.add(unitStack, n)
		}
	}
	if !opt.OnlyRankingData {
		opt.plan.add(unitRefit, len(cfg.ModelNames()))
	}
	return nil
}
