package twotower

import (
	"fmt"

	"github.com/cascade-rec/cascade/params"
)

// Names accepted by the switch fields of Params.
const (
	LossSoftmax = "softmax" // in-batch sampled softmax
	LossGramian = "gramian" // pointwise loss on positives + Gramian penalty over all pairs

	CorrectionNone = "none"
	CorrectionLogQ = "logq"

	EstimatorStreaming = "streaming" // Yi et al. 2019 hashed last-seen/average-gap arrays
	EstimatorCounts    = "counts"    // exact item frequencies of the training samples

	NegativesInBatch = "in_batch"
	NegativesMixed   = "mixed" // in-batch + uniformly sampled corpus items (Yang et al. 2020)
	// NegativesShown keeps only the logged slate's shown-and-not-clicked items as a row's
	// negatives (examples impressions): a softmax over the slate, no sampled negatives.
	NegativesShown = "shown"

	// ExamplesEvents makes every event with an earlier event of its user an example (the
	// default; the empty string means the same).
	ExamplesEvents = "events"
	// ExamplesImpressions makes every clicked item of a logged slate (TrainData.Impressions) an
	// example, whose query is the user's history before the slate and whose own negatives are
	// the slate's items shown and not clicked.
	ExamplesImpressions = "impressions"

	GramianBatch   = "batch"   // item Gramian over the batch's item columns
	GramianCatalog = "catalog" // item Gramian over uniformly sampled items: the whole-catalog estimate
)

// Params configure the two-tower model and its training. Start from DefaultParams: the zero
// value is not valid.
type Params struct {
	// Architecture.
	Dim         int   `yaml:"dim"`          // d: item-ID, position and output embedding size
	Hidden      []int `yaml:"hidden"`       // hidden layer widths of both towers' MLPs (ReLU)
	HistoryLen  int   `yaml:"history_len"`  // L: the query tower reads the last L history items
	Heads       int   `yaml:"heads"`        // attention heads; must divide dim
	UserBuckets int   `yaml:"user_buckets"` // hashed user-ID embedding rows; 0 = no user embedding
	AttrDim     int   `yaml:"attr_dim"`     // embedding size of categorical item attribute values
	ContextDim  int   `yaml:"context_dim"`  // hour-of-day and day-of-week embedding size; 0 = no context
	// IDDropout is the probability that a training batch's item column sees the zero ("unknown")
	// ID row instead of its own, so that the item tower also learns to place an item from its
	// attributes alone: the embedding an item added after training gets (live.go).
	IDDropout float64 `yaml:"id_dropout"`

	// Objective.
	Temperature   float64 `yaml:"temperature"`    // τ: score = u·v/τ
	Loss          string  `yaml:"loss"`           // softmax | gramian
	Correction    string  `yaml:"correction"`     // none | logq (softmax only)
	LogQEstimator string  `yaml:"logq_estimator"` // streaming | counts
	LogQBuckets   int     `yaml:"logq_buckets"`   // hash array size of the streaming estimator
	LogQAlpha     float64 `yaml:"logq_alpha"`     // learning rate of the streaming estimator
	// Examples is where the positives come from: events (every event) or impressions (the
	// clicked items of logged slates, each with its slate's unclicked items as negatives). The
	// article's question: a generator that learns only from impressions tells apart only items
	// that were shown, so it may need sampled negatives (negatives mixed) to learn that most of
	// the catalog is poor. Empty means events; the JSON tag keeps the default's artifacts as
	// they were.
	Examples string `yaml:"examples" json:",omitempty"`
	// Negatives: in_batch | mixed | shown (shown: examples impressions only). With examples
	// impressions, a row's shown-and-not-clicked items are always among its negatives; in_batch
	// adds the batch's other positives (logQ-corrected), mixed those and MixedNegatives uniform
	// catalog items, shown nothing else.
	Negatives      string  `yaml:"negatives"`
	MixedNegatives int     `yaml:"mixed_negatives"` // uniform items added per batch (mixed, gramian catalog)
	GramianWeight  float64 `yaml:"gramian_weight"`  // λ of the Gramian penalty
	GramianItems   string  `yaml:"gramian_items"`   // batch | catalog

	// Serving: score = u·v/τ + PriorBeta·log P(item), P from smoothed train counts.
	PriorBeta float64 `yaml:"prior_beta"`

	// Optimisation.
	BatchSize int `yaml:"batch_size"`
	Epochs    int `yaml:"epochs"` // upper bound; early stopping may end sooner
	// EpochExamples caps an epoch — the unit of validation, early stopping and refit — at that
	// many examples, taken in turn from a shuffled order that is reshuffled when used up; 0 means
	// DefaultEpochExamples. On a big log a full pass is far more than the model needs between two
	// looks at the validation recall, and early stopping can only stop at an epoch's end. Logs
	// with fewer examples see whole passes, as before (the JSON tag keeps their artifacts as
	// they were).
	EpochExamples int     `yaml:"epoch_examples" json:",omitempty"`
	LearningRate  float64 `yaml:"learning_rate"`
	WeightDecay   float64 `yaml:"weight_decay"` // decoupled (AdamW)
	Seed          uint64  `yaml:"seed"`

	// Early stopping on validation recall@ValidationTopN. Without explicit validation events,
	// the last ValidationFraction of the train events (by time) is held out; 0 disables early
	// stopping and trains Epochs epochs on everything.
	ValidationFraction float64 `yaml:"validation_fraction"`
	ValidationTopN     int     `yaml:"validation_top_n"`
	ValidationSteps    int     `yaml:"validation_steps"` // at most this many validation events are scored
	Patience           int     `yaml:"patience"`         // epochs without improvement before stopping
	// Refit retrains on all train events for the best epoch count after early stopping on a
	// held-out tail, so that the most recent events are not lost to validation.
	Refit bool `yaml:"refit"`
}

// DefaultEpochExamples is the epoch size when epoch_examples is 0: about two to four minutes of
// training on 2 cores, and more examples than ml-latest-small or a 1M-event log hold, so only
// bigger logs see partial passes.
const DefaultEpochExamples = 2_000_000

// epochExamples is the number of examples of an epoch over n training examples.
func (p *Params) epochExamples(n int) int {
	e := p.EpochExamples
	if e == 0 {
		e = DefaultEpochExamples
	}
	return min(e, n)
}

// DefaultParams returns the defaults: the reference architecture of shared/datasets (d = 64,
// 50 history items, τ = 0.05, in-batch softmax) with logQ correction, which the reference found
// three times better than none on ml-100k.
func DefaultParams() Params {
	return Params{
		Dim:                64,
		Hidden:             []int{128},
		HistoryLen:         50,
		Heads:              2,
		UserBuckets:        0,
		AttrDim:            16,
		ContextDim:         8,
		Temperature:        0.05,
		Loss:               LossSoftmax,
		Correction:         CorrectionLogQ,
		LogQEstimator:      EstimatorStreaming,
		LogQBuckets:        1 << 18,
		LogQAlpha:          0.01,
		Negatives:          NegativesInBatch,
		MixedNegatives:     128,
		GramianWeight:      10,
		GramianItems:       GramianBatch,
		BatchSize:          256,
		Epochs:             20,
		LearningRate:       2e-3,
		Seed:               1,
		ValidationFraction: 0.1,
		ValidationTopN:     100,
		ValidationSteps:    5000,
		Patience:           2,
	}
}

// Validate reports the first invalid field as a params.FieldError naming its YAML key.
func (p Params) Validate() error {
	if err := params.First(
		params.IntIn("dim", p.Dim, 1, 4096),
		params.IntIn("history_len", p.HistoryLen, 1, 4096),
		params.Check(p.Heads >= 1 && p.Dim%max(p.Heads, 1) == 0, "heads", p.Heads, fmt.Sprintf("be ≥ 1 and divide dim (%d)", p.Dim)),
		params.Check(p.UserBuckets >= 0, "user_buckets", p.UserBuckets, "be ≥ 0 (0 = no user embedding)"),
		params.IntIn("attr_dim", p.AttrDim, 1, 4096),
		params.Check(p.ContextDim >= 0 && p.ContextDim <= 4096, "context_dim", p.ContextDim, "be in [0, 4096] (0 = no context)"),
		params.Check(p.IDDropout >= 0 && p.IDDropout < 1, "id_dropout", p.IDDropout, "be in [0, 1)"),
		params.Positive("temperature", p.Temperature),
		params.Check(p.BatchSize >= 2, "batch_size", p.BatchSize, "be ≥ 2 (in-batch negatives need company)"),
		params.AtLeast("epochs", p.Epochs, 1),
		params.Positive("learning_rate", p.LearningRate),
		params.NonNegative("weight_decay", p.WeightDecay),
		params.Check(params.Finite(p.PriorBeta), "prior_beta", p.PriorBeta, "be finite"),
		params.Check(p.ValidationFraction >= 0 && p.ValidationFraction < 1, "validation_fraction", p.ValidationFraction, "be in [0, 1)"),
		params.AtLeast("validation_top_n", p.ValidationTopN, 1),
		params.AtLeast("validation_steps", p.ValidationSteps, 1),
		params.AtLeast("patience", p.Patience, 1),
		params.Check(p.EpochExamples == 0 || p.EpochExamples >= p.BatchSize, "epoch_examples", p.EpochExamples,
			fmt.Sprintf("be 0 (default %d) or ≥ batch_size (%d)", DefaultEpochExamples, p.BatchSize)),
		params.IntsIn("hidden", p.Hidden, 1, 1<<16),
		params.In("loss", p.Loss, LossSoftmax, LossGramian),
	); err != nil {
		return err
	}
	if err := params.First(
		params.In("correction", p.Correction, CorrectionNone, CorrectionLogQ),
		params.Check(p.Correction != CorrectionLogQ || p.Loss == LossSoftmax, "correction", fmt.Sprintf("%q", p.Correction),
			fmt.Sprintf("be %q with loss %q (logQ corrects sampled softmax)", CorrectionNone, p.Loss)),
		params.In("logq_estimator", p.LogQEstimator, EstimatorStreaming, EstimatorCounts),
	); err != nil {
		return err
	}
	if p.LogQEstimator == EstimatorStreaming {
		if err := params.First(
			params.AtLeast("logq_buckets", p.LogQBuckets, 1),
			params.Check(p.LogQAlpha > 0 && p.LogQAlpha <= 1, "logq_alpha", p.LogQAlpha, "be in (0, 1]"),
		); err != nil {
			return err
		}
	}
	if err := params.First(
		params.In("examples", p.Examples, "", ExamplesEvents, ExamplesImpressions),
		params.Check(p.Examples != ExamplesImpressions || p.Loss == LossSoftmax, "examples", fmt.Sprintf("%q", p.Examples),
			fmt.Sprintf("be %q with loss %q (impressions train the softmax)", ExamplesEvents, p.Loss)),
		params.In("negatives", p.Negatives, NegativesInBatch, NegativesMixed, NegativesShown),
		params.Check(p.Negatives != NegativesMixed || p.MixedNegatives >= 1, "mixed_negatives", p.MixedNegatives,
			fmt.Sprintf("be ≥ 1 with negatives %q", NegativesMixed)),
		params.Check(p.Negatives != NegativesShown || p.fromImpressions(), "negatives", fmt.Sprintf("%q", p.Negatives),
			fmt.Sprintf("be %q or %q with examples %q (shown negatives come from impressions)", NegativesInBatch, NegativesMixed, ExamplesEvents)),
		params.AtLeast("mixed_negatives", p.MixedNegatives, 0),
	); err != nil {
		return err
	}
	if p.Loss == LossGramian {
		return params.First(
			params.NonNegative("gramian_weight", p.GramianWeight),
			params.In("gramian_items", p.GramianItems, GramianBatch, GramianCatalog),
			params.Check(p.GramianItems != GramianCatalog || p.MixedNegatives >= 1, "mixed_negatives", p.MixedNegatives,
				fmt.Sprintf("be ≥ 1 with gramian_items %q (they are the catalog sample)", GramianCatalog)),
		)
	}
	return nil
}

// fromImpressions reports whether the examples are logged slates' clicks.
func (p *Params) fromImpressions() bool { return p.Examples == ExamplesImpressions }

// uniformItems is the number of uniformly sampled items a batch carries.
func (p *Params) uniformItems() int {
	if p.Negatives == NegativesMixed || (p.Loss == LossGramian && p.GramianItems == GramianCatalog) {
		return p.MixedNegatives
	}
	return 0
}
