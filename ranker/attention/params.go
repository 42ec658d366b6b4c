package attention

import (
	"github.com/cascade-rec/cascade/params"
)

// Names accepted by the switch fields of Params.
const (
	AttentionDIN  = "din"  // DIN's activation unit: an MLP over [h, c, h−c, h⊙c]
	AttentionDot  = "dot"  // scaled dot-product target attention: softmax(h·W·c/√d)
	AttentionMean = "mean" // the DIN-less ablation: the mean of the history

	LossBCE     = "bce"     // pointwise logistic loss per candidate
	LossSoftmax = "softmax" // listwise softmax cross-entropy per request
)

// Params configure the model and its training. Start from DefaultParams: the zero value is not
// valid.
type Params struct {
	// Architecture.
	Attention       string `yaml:"attention"`        // din | dot | mean
	Softmax         bool   `yaml:"softmax"`          // din: normalise the weights over the history (dot always does)
	Dim             int    `yaml:"dim"`              // d: item embedding size
	AttentionHidden int    `yaml:"attention_hidden"` // din: hidden width of the activation unit
	Hidden          []int  `yaml:"hidden"`           // hidden widths of the output MLP (ReLU)
	HistoryLen      int    `yaml:"history_len"`      // L: the most recent L known history items are read
	// Recency adds a learned bias per history position (counted from the most recent item) to
	// the attention logits of din and dot, so that attention can weigh recency as well as
	// relevance. The mean ablation ignores it.
	Recency bool `yaml:"recency"`

	// Training.
	Loss            string  `yaml:"loss"`             // bce | softmax
	BatchSize       int     `yaml:"batch_size"`       // requests per step
	Epochs          int     `yaml:"epochs"`           // upper bound; early stopping may end sooner
	LearningRate    float64 `yaml:"learning_rate"`    // Adam
	WeightDecay     float64 `yaml:"weight_decay"`     // decoupled (AdamW), on the rows a step updates
	GradClip        float64 `yaml:"grad_clip"`        // clip the global gradient norm; 0 = never
	EmbeddingStd    float64 `yaml:"embedding_std"`    // N(0, std²) init of rows without a given vector
	FreezeItems     bool    `yaml:"freeze_items"`     // keep the item embeddings at their initial values
	TrainCandidates int     `yaml:"train_candidates"` // per request and epoch: every positive + negatives up to this many; 0 = all
	Patience        int     `yaml:"patience"`         // epochs without a better validation NDCG before stopping
	EvalK           int     `yaml:"eval_k"`           // early stopping watches NDCG@EvalK
	Seed            uint64  `yaml:"seed"`
	// Workers bounds the goroutines of a step; 0 = GOMAXPROCS. It never changes the result: a
	// batch is always cut into the same shards, whose gradients are summed in a fixed order.
	Workers int `yaml:"workers"`
}

// DefaultParams returns the defaults: d = 64, the last 50 history items, a 16-wide DIN unit with
// raw (unnormalised) weights and a recency bias, an output MLP of 64 and 32 units, the listwise
// loss on every positive and 50 candidates per request. On MovieLens (docs/benchmarks.md)
// raw weights beat softmax-normalised ones by 10–15% NDCG, and sampling 50 candidates trains 4×
// faster than the full 200 with the same quality.
func DefaultParams() Params {
	return Params{
		Attention:       AttentionDIN,
		Softmax:         false,
		Dim:             64,
		AttentionHidden: 16,
		Hidden:          []int{64, 32},
		HistoryLen:      50,
		Recency:         true,
		Loss:            LossSoftmax,
		BatchSize:       32,
		Epochs:          20,
		LearningRate:    2e-3,
		GradClip:        5,
		EmbeddingStd:    0.05,
		TrainCandidates: 50,
		Patience:        2,
		EvalK:           10,
		Seed:            1,
	}
}

// Validate reports the first invalid field as a params.FieldError naming its YAML key.
func (p Params) Validate() error {
	return params.First(
		params.In("attention", p.Attention, AttentionDIN, AttentionDot, AttentionMean),
		params.In("loss", p.Loss, LossBCE, LossSoftmax),
		params.IntIn("dim", p.Dim, 1, 4096),
		params.IntIn("attention_hidden", p.AttentionHidden, 1, 4096),
		params.IntIn("history_len", p.HistoryLen, 1, 4096),
		params.AtLeast("batch_size", p.BatchSize, 1),
		params.AtLeast("epochs", p.Epochs, 1),
		params.Positive("learning_rate", p.LearningRate),
		params.NonNegative("weight_decay", p.WeightDecay),
		params.Check(params.Finite(p.GradClip) && p.GradClip >= 0, "grad_clip", p.GradClip, "be a finite number ≥ 0 (0 = no clipping)"),
		params.NonNegative("embedding_std", p.EmbeddingStd),
		params.Check(p.TrainCandidates >= 0, "train_candidates", p.TrainCandidates, "be ≥ 0 (0 = all)"),
		params.AtLeast("patience", p.Patience, 1),
		params.AtLeast("eval_k", p.EvalK, 1),
		params.Check(p.Workers >= 0, "workers", p.Workers, "be ≥ 0 (0 = GOMAXPROCS)"),
		params.IntsIn("hidden", p.Hidden, 1, 1<<16),
	)
}
