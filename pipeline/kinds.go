package pipeline

import (
	"context"
	"fmt"
	"sort"

	"github.com/cascade-rec/cascade/candidates/als"
	"github.com/cascade-rec/cascade/candidates/popularity"
)

// modelKind is how the pipeline trains and loads one model type.
type modelKind struct {
	source    bool       // can propose candidates (a retrieve source or the fallback)
	newParams func() any // pointer to the defaults; grid values are decoded over it
	train     func(ctx context.Context, env TrainEnv, params any) (Model, error)
	load      func(path string) (Model, error)
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
		newParams: func() any { p := als.DefaultIALSParams(); return &p },
		train: func(ctx context.Context, env TrainEnv, params any) (Model, error) {
			p := *params.(*als.IALSParams)
			if p.Workers == 0 {
				p.Workers = env.Workers
			}
			m, _, err := als.TrainIALS(ctx, env.Events, env.NumUsers, env.NumItems, p, env.Progress)
			return m, err
		},
		load: func(path string) (Model, error) { return als.LoadIALS(path) },
	},
	"als": {
		source:    true,
		newParams: func() any { p := als.DefaultALSParams(); return &p },
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
		load: func(path string) (Model, error) { return als.LoadALS(path) },
	},
}

func kindNames() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
