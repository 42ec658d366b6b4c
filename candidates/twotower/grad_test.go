package twotower

import (
	"io"
	"log/slog"
	"math"
	"testing"

	"github.com/cascade-rec/cascade/nn"
	"github.com/cascade-rec/cascade/progress"
)

func quietOptions(workers int) Options {
	return Options{Workers: workers, Progress: progress.Options{Disabled: true}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestLossGradient checks the gradient of the whole training loss — both towers, every layer,
// the shared item table, both losses and the logQ/mixed-negative variants — against finite
// differences, with the batch split across two workers.
func TestLossGradient(t *testing.T) {
	w := newWorld(1, 20, 40, 4, 5, 12)
	cases := []struct {
		name string
		edit func(*Params)
	}{
		{"softmax", func(p *Params) { p.Correction = CorrectionNone }},
		{"softmax-logq-streaming", func(p *Params) { p.Correction = CorrectionLogQ }},
		{"softmax-logq-counts-mixed", func(p *Params) {
			p.Correction, p.LogQEstimator, p.Negatives, p.MixedNegatives = CorrectionLogQ, EstimatorCounts, NegativesMixed, 6
		}},
		{"impressions-shown", func(p *Params) { p.Examples, p.Negatives = ExamplesImpressions, NegativesShown }},
		{"impressions-in-batch-logq", func(p *Params) { p.Examples, p.Correction = ExamplesImpressions, CorrectionLogQ }},
		{"impressions-mixed-logq", func(p *Params) {
			p.Examples, p.Correction, p.Negatives, p.MixedNegatives = ExamplesImpressions, CorrectionLogQ, NegativesMixed, 6
		}},
		{"gramian-batch", func(p *Params) { p.Loss, p.Correction, p.GramianWeight = LossGramian, CorrectionNone, 3 }},
		{"gramian-catalog", func(p *Params) {
			p.Loss, p.Correction, p.GramianWeight, p.GramianItems, p.MixedNegatives = LossGramian, CorrectionNone, 3, GramianCatalog, 6
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := smallParams()
			p.Dim, p.Hidden, p.HistoryLen, p.AttrDim, p.ContextDim, p.UserBuckets = 8, []int{6}, 4, 3, 2, 5
			p.Temperature = 0.5
			p.BatchSize = 12
			tc.edit(&p)
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			feats, err := newItemFeatures(w.attrs, w.numItems)
			if err != nil {
				t.Fatal(err)
			}
			data := w.trainData(w.events)
			data.Impressions = w.slates(4, 40, 5) // read by the impressions cases only
			tr, err := newTrainer(data, w.events, nil, 0, feats, p, quietOptions(2))
			if err != nil {
				t.Fatal(err)
			}
			// Give every bias and gain a non-trivial value so that their gradients are exercised.
			for _, ps := range tr.master.ps {
				if ps.Rows == 1 {
					for i := range ps.W {
						ps.W[i] += float32(0.1 * math.Sin(float64(3*i+1)))
					}
				}
			}
			batch := tr.samples[:p.BatchSize]
			// Force a duplicated positive so that the masking path is in the check.
			batch[1] = batch[0]
			tr.step = 5
			tr.assemble(batch)
			tr.forwardLoss()
			tr.backward()
			loss := func() float64 { return tr.forwardLoss() }
			opt := nn.CheckOptions{Eps: 4e-4, RelTol: 3e-2, AbsTol: 2e-3, Coords: 40, Seed: 3}
			if err := nn.CheckParams(tr.master.ps, loss, opt); err != nil {
				t.Error(err)
			}
		})
	}
}
