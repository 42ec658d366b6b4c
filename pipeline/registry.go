package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cascade-rec/cascade/ranker"
)

// ModelKind tells the pipeline how to train and load one model type, so that a pipeline file can
// name it (`models: {x: {type: NAME}}`) like the built-in ones. A program registers its own kinds
// with RegisterModel before parsing pipeline files.
type ModelKind struct {
	// Source says the model can propose candidates (a retrieve source or the fallback); every
	// model's score is a ranking feature when it implements candidates.Scorer.
	Source bool
	// NewParams returns a pointer to the parameter struct holding its defaults; the file's params
	// (and each grid combination) are decoded over it with the struct's yaml tags. If the struct
	// has a `Validate() error` method, it is called after decoding; returning params.FieldError
	// (Path = the key as the file writes it) lets the error name the file's line and key.
	NewParams func() any
	// Train trains the model on env's window with the decoded parameters.
	Train func(ctx context.Context, env TrainEnv, params any) (Model, error)
	// Load reads what Model.Save wrote.
	Load func(path string) (Model, error)
	// Serving names parameters that change only how a trained model serves; tuning trains once per
	// combination of the others and applies each serving value with Serve (nil when none).
	Serving []string
	Serve   func(m Model, params any) (Model, error)
	// Resource names the integer parameter that sets the training budget (iterations, epochs):
	// successive halving (tuning.strategy: halving) trains grid points on fractions of it. ""
	// when the kind has none; halving then refuses its grids.
	Resource string
}

// ErrKindExists is returned when a kind is registered under a name that is taken.
var ErrKindExists = errors.New("a kind of that name is registered")

var registryMu sync.Mutex

// RegisterModel makes kind available to pipeline files as type name. Register during program
// start (e.g. in init), before any pipeline file is parsed: the table is read without locking.
func RegisterModel(name string, kind ModelKind) error {
	if name == "" || kind.NewParams == nil || kind.Train == nil || kind.Load == nil {
		return fmt.Errorf("register model %q: name, NewParams, Train and Load are required", name)
	}
	if len(kind.Serving) > 0 && kind.Serve == nil {
		return fmt.Errorf("register model %q: Serving parameters need Serve", name)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := kinds[name]; ok {
		return fmt.Errorf("register model %q: %w", name, ErrKindExists)
	}
	kinds[name] = &modelKind{source: kind.Source, newParams: kind.NewParams, train: kind.Train, load: kind.Load, serving: kind.Serving, serve: kind.Serve, resource: kind.Resource}
	return nil
}

// RankerKind tells the pipeline how to train and load one ranker type, so that a pipeline file
// can name it (`rankers: [{name: x, type: NAME}]`). A program registers its own kinds with
// RegisterRanker before parsing pipeline files.
type RankerKind struct {
	// NewParams returns a pointer to the parameter struct holding its defaults (decoded like a
	// model's, grids included; a `Validate() error` method is called after decoding and should
	// return params.FieldError naming the key).
	NewParams func() any
	// Train fits the ranker on train (requests with candidates, features and labels), early
	// stopping on valid.
	Train func(ctx context.Context, env RankerEnv, train, valid *ranker.Set, params any) (Ranker, error)
	// Load reads what Ranker.Save wrote.
	Load func(path string) (Ranker, error)
}

// RegisterRanker makes kind available to pipeline files as ranker type name. Register during
// program start, before any pipeline file is parsed.
func RegisterRanker(name string, kind RankerKind) error {
	if name == "" || kind.NewParams == nil || kind.Train == nil || kind.Load == nil {
		return fmt.Errorf("register ranker %q: name, NewParams, Train and Load are required", name)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := rankerKinds[name]; ok {
		return fmt.Errorf("register ranker %q: %w", name, ErrKindExists)
	}
	rankerKinds[name] = &rankerKind{newParams: kind.NewParams, train: kind.Train, load: kind.Load}
	return nil
}
