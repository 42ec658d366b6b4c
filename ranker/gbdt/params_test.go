package gbdt

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/params"
)

// TestParamsValidate: the defaults pass, and each bad field is named by its pipeline-file key.
func TestParamsValidate(t *testing.T) {
	for _, obj := range []string{ObjectiveLambdarank, ObjectiveBinary} {
		p := DefaultParams(obj)
		if err := p.Validate(); err != nil {
			t.Fatalf("defaults for %s: %v", obj, err)
		}
	}
	cases := []struct {
		key string
		set func(*Params)
	}{
		{"objective", func(p *Params) { p.Objective = "regression" }},
		{"trees", func(p *Params) { p.NumTrees = 0 }},
		{"leaves", func(p *Params) { p.NumLeaves = 1 }},
		{"leaves", func(p *Params) { p.NumLeaves = 1<<17 + 1 }},
		{"learning_rate", func(p *Params) { p.LearningRate = math.Inf(1) }},
		{"min_data_in_leaf", func(p *Params) { p.MinDataInLeaf = 0 }},
		{"min_sum_hessian", func(p *Params) { p.MinSumHessianInLeaf = math.NaN() }},
		{"lambda_l2", func(p *Params) { p.LambdaL2 = -1 }},
		{"min_gain", func(p *Params) { p.MinGainToSplit = -1 }},
		{"feature_fraction", func(p *Params) { p.FeatureFraction = 1.5 }},
		{"bagging_fraction", func(p *Params) { p.BaggingFraction = 0 }},
		{"bagging_freq", func(p *Params) { p.BaggingFreq = -1 }},
		{"max_bin", func(p *Params) { p.MaxBin = 256 }},
		{"early_stopping", func(p *Params) { p.EarlyStoppingRounds = -1 }},
		{"eval_at", func(p *Params) { p.EvalAt = []int{10, 0} }},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			p := DefaultParams(ObjectiveLambdarank)
			c.set(&p)
			err := p.Validate()
			var fe params.FieldError
			if !errors.As(err, &fe) || strings.TrimSuffix(fe.Path, "[1]") != c.key {
				t.Fatalf("error %v, want a params.FieldError naming %s", err, c.key)
			}
		})
	}
}
