package pipeline

import (
	"context"
	"fmt"
	"sort"

	"github.com/cascade-rec/cascade/candidates/als"
	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/candidates/twotower"
	"github.com/cascade-rec/cascade/coat"
)

// modelKind is how the pipeline trains and loads one model type.
type modelKind struct {
	source bool // can propose candidates (a retrieve source or the fallback)
	// ratings marks a model of explicit ratings evaluated by EvaluateRatings (ratings.go), not
	// a stage of a ranking pipeline: it has no train or load, and its file has no stages.
	ratings   bool
	newParams func() any // pointer to the defaults; grid values are decoded over it
	train     func(ctx context.Context, env TrainEnv, params any) (Model, error)
	load      func(path string) (Model, error)
	// serving names the parameters that only change how a trained model serves (e.g. the
	// two-tower's prior_beta); tuning trains once per combination of the others and applies
	// each serving value with serve.
	serving []string
	serve   func(m Model, params any) (Model, error)
	// resource is the integer parameter that sets the training budget, which successive halving
	// scales ("" for none).
	resource string
}

// NoParams is the parameter set of a model without parameters.
type NoParams struct{}

// kinds is the fixed table of model types a pipeline file may name.
var kinds = map[string]*modelKind{
	"popularity": {
		source:    true,
		newParams: func() any { return &NoParams{} },
		train: func(_ context.Context, env TrainEnv, _ any) (Model, error) {
			return popularity.Train(env.Events, env.NumItems, env.Dataset.Items.IDs()[:env.NumItems]), nil
		},
		load: func(path string) (Model, error) { return popularity.Load(path) },
	},
	"ials": {
		source:    true,
		newParams: defaults(als.DefaultIALSParams),
		train: func(ctx context.Context, env TrainEnv, params any) (Model, error) {
			p := *params.(*als.IALSParams)
			if p.Workers == 0 {
				p.Workers = env.Workers
			}
			m, _, err := als.TrainIALSWeighted(ctx, env.Events, env.NumUsers, env.NumItems, env.Weights, p, env.Progress)
			return m, err
		},
		load:     func(path string) (Model, error) { return als.LoadIALS(path) },
		resource: "iterations",
	},
	"als": {
		source:    true,
		newParams: defaults(als.DefaultALSParams),
		train: func(ctx context.Context, env TrainEnv, params any) (Model, error) {
			if !env.Dataset.HasValues {
				return nil, fmt.Errorf("als needs explicit ratings, and data set %s has no values (use ials)", env.Dataset.Name)
			}
			p := *params.(*als.ALSParams)
			if p.Workers == 0 {
				p.Workers = env.Workers
			}
			m, _, err := als.TrainALS(ctx, env.Events, env.NumUsers, env.NumItems, p, env.Progress)
			return m, err
		},
		load:     func(path string) (Model, error) { return als.LoadALS(path) },
		resource: "iterations",
	},
	"twotower": {
		source:    true,
		newParams: defaults(twotower.DefaultParams),
		train: func(ctx context.Context, env TrainEnv, params any) (Model, error) {
			data := twotower.TrainData{Events: env.Events, NumUsers: env.NumUsers, NumItems: env.NumItems, ItemAttrs: env.Dataset.ItemAttrs, Targets: env.Targets}
			if params.(*twotower.Params).Examples == twotower.ExamplesImpressions {
				var err error
				if data.Impressions, err = towerImpressions(env); err != nil {
					return nil, err
				}
			}
			m, _, err := twotower.Train(ctx, data, *params.(*twotower.Params), twotower.Options{Workers: env.Workers, Progress: env.Progress, Logger: env.Logger})
			return asTower(m, err)
		},
		load:     func(path string) (Model, error) { return asTower(twotower.Load(path)) },
		serving:  []string{"prior_beta"},
		resource: "epochs",
		serve: func(m Model, params any) (Model, error) {
			return asTower(m.(towerModel).WithPriorBeta(params.(*twotower.Params).PriorBeta))
		},
	},
	"explicit_mf": {
		ratings:   true,
		newParams: defaults(coat.DefaultParams),
	},
	"imported": {
		source:    true,
		newParams: defaults(imported.DefaultParams),
		train: func(ctx context.Context, env TrainEnv, params any) (Model, error) {
			cat := imported.Catalog{Items: env.Dataset.Items, NumItems: env.NumItems, Users: env.Dataset.Users, NumUsers: env.NumUsers}
			m, err := imported.Train(ctx, *params.(*imported.Params), cat)
			if err != nil {
				return nil, err
			}
			logOf(env).Info("imported model aligned to the window", "report", m.Report().String())
			return m, nil
		},
		load:    func(path string) (Model, error) { return imported.Load(path) },
		serving: []string{"fold_in", "fold", "implicit", "reg", "alpha", "history_len"},
		serve: func(m Model, params any) (Model, error) {
			return m.(*imported.Model).WithServing(*params.(*imported.Params))
		},
	},
}

// towerModel adapts the two-tower model to the bundle: its index build report goes into the
// manifest.
type towerModel struct{ *twotower.Model }

func (t towerModel) Info() any { return t.IndexReport() }

// asTower adapts what trains, loads or re-serves a two-tower model: the model as a towerModel, or
// the error.
func asTower(m *twotower.Model, err error) (Model, error) {
	if err != nil {
		return nil, err
	}
	return towerModel{m}, nil
}

// defaults makes a kind's newParams from its package's defaults: a pointer to a fresh copy.
func defaults[P any](def func() P) func() any {
	return func() any { p := def(); return &p }
}

func kindNames() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
