package gbdt

import (
	"math"
	"strconv"
	"strings"

	"github.com/cascade-rec/cascade/params"
)

// Objectives accepted by Params.Objective.
const (
	ObjectiveLambdarank = "lambdarank"
	ObjectiveBinary     = "binary"
)

// Params are the training parameters; names follow LightGBM's. Start from DefaultParams.
//
// They are the one parameter set of every GBDT in Cascade: the yaml tags are the keys of a
// pipeline file's lightgbm ranker, and the name/help tags the flags of `cascade gbdt train`
// (kong), whose defaults (${Field}) the command takes from DefaultParams. The fields after
// NumThreads are for library callers only; zero BinSampleCount, LambdarankTruncationLevel,
// Sigmoid and EvalAt mean LightGBM's defaults.
type Params struct {
	Objective string `yaml:"objective" name:"objective" enum:"lambdarank,binary" default:"${Objective}" help:"lambdarank or binary."`
	// NumTrees is num_iterations.
	NumTrees  int `yaml:"trees" name:"trees" default:"${NumTrees}" help:"Boosting rounds."`
	NumLeaves int `yaml:"leaves" name:"leaves" default:"${NumLeaves}" help:"Max leaves per tree."`
	MaxDepth  int `yaml:"max_depth" name:"max-depth" default:"${MaxDepth}" help:"Max tree depth (<= 0: unlimited)."`

	LearningRate        float64 `yaml:"learning_rate" name:"learning-rate" default:"${LearningRate}" help:"Shrinkage."`
	MinDataInLeaf       int     `yaml:"min_data_in_leaf" name:"min-data-in-leaf" default:"${MinDataInLeaf}" help:"Min rows per leaf."`
	MinSumHessianInLeaf float64 `yaml:"min_sum_hessian" name:"min-sum-hessian" default:"${MinSumHessianInLeaf}" help:"Min sum of hessians per leaf."`
	LambdaL2            float64 `yaml:"lambda_l2" name:"lambda-l2" default:"${LambdaL2}" help:"L2 regularisation of leaf values."`
	MinGainToSplit      float64 `yaml:"min_gain" name:"min-gain" default:"${MinGainToSplit}" help:"Min gain to split."`

	FeatureFraction float64 `yaml:"feature_fraction" name:"feature-fraction" default:"${FeatureFraction}" help:"Fraction of features per tree."`
	BaggingFraction float64 `yaml:"bagging_fraction" name:"bagging-fraction" default:"${BaggingFraction}" help:"Fraction of rows per bagging round."`
	BaggingFreq     int     `yaml:"bagging_freq" name:"bagging-freq" default:"${BaggingFreq}" help:"Re-bag every N trees (0: no bagging)."`
	MaxBin          int     `yaml:"max_bin" name:"max-bin" default:"${MaxBin}" help:"Max bins per feature (<= 255)."`

	// EarlyStoppingRounds stops when the validation metric has not improved for that many
	// trees (0 disables); the model keeps the trees up to the best iteration. The metric is
	// ndcg@EvalAt[0] for lambdarank and logloss for binary.
	EarlyStoppingRounds int   `yaml:"early_stopping" name:"early-stopping" default:"${EarlyStoppingRounds}" help:"Stop after N rounds without improvement on --valid (0: off)."`
	EvalAt              []int `yaml:"eval_at" name:"eval-at" default:"${EvalAt}" help:"NDCG cut-offs; the first drives early stopping."`
	// Seed drives bin sampling, bagging and feature sampling with LightGBM's generators and
	// seed derivation, so a seed draws the same bags as LightGBM's seed parameter.
	Seed int `yaml:"seed" name:"seed" default:"${Seed}" help:"Random seed (bin sampling, bagging, feature sampling; LightGBM's generators, so the same bags as LightGBM's seed)."`
	// NumThreads bounds the goroutines used for histograms and gradients (0: GOMAXPROCS); it
	// never changes the model.
	NumThreads int `yaml:"-" name:"threads" default:"${NumThreads}" help:"Goroutines for histograms and gradients (0: GOMAXPROCS)."`

	BinSampleCount            int       `yaml:"-" kong:"-"` // rows sampled to find bins (bin_construct_sample_cnt)
	LabelGain                 []float64 `yaml:"-" kong:"-"` // nil: 2^i - 1
	LambdarankTruncationLevel int       `yaml:"-" kong:"-"`
	LambdarankNoNorm          bool      `yaml:"-" kong:"-"` // disable LightGBM's lambdarank_norm
	Sigmoid                   float64   `yaml:"-" kong:"-"`
}

// DefaultParams returns LightGBM's defaults for the given objective.
func DefaultParams(objective string) Params {
	return Params{
		Objective:                 objective,
		NumTrees:                  100,
		NumLeaves:                 31,
		MaxDepth:                  -1,
		LearningRate:              0.1,
		MinDataInLeaf:             20,
		MinSumHessianInLeaf:       1e-3,
		FeatureFraction:           1,
		BaggingFraction:           1,
		MaxBin:                    255,
		BinSampleCount:            200000,
		EvalAt:                    []int{1, 3, 5, 10},
		LambdarankTruncationLevel: 30,
		Sigmoid:                   1,
	}
}

// Validate reports the first invalid field as a params.FieldError naming its pipeline-file key
// (the flag of `cascade gbdt train` is the same key with hyphens).
func (p *Params) Validate() error {
	return params.First(
		params.In("objective", p.Objective, ObjectiveLambdarank, ObjectiveBinary),
		params.AtLeast("trees", p.NumTrees, 1),
		params.IntIn("leaves", p.NumLeaves, 2, 1<<17),
		params.Positive("learning_rate", p.LearningRate),
		params.AtLeast("min_data_in_leaf", p.MinDataInLeaf, 1),
		params.Check(p.MinSumHessianInLeaf >= 0, "min_sum_hessian", p.MinSumHessianInLeaf, "be ≥ 0"),
		params.Check(p.LambdaL2 >= 0, "lambda_l2", p.LambdaL2, "be ≥ 0"),
		params.Check(p.MinGainToSplit >= 0, "min_gain", p.MinGainToSplit, "be ≥ 0"),
		params.Check(p.FeatureFraction > 0 && p.FeatureFraction <= 1, "feature_fraction", p.FeatureFraction, "be in (0, 1]"),
		params.Check(p.BaggingFraction > 0 && p.BaggingFraction <= 1, "bagging_fraction", p.BaggingFraction, "be in (0, 1]"),
		params.AtLeast("bagging_freq", p.BaggingFreq, 0),
		params.IntIn("max_bin", p.MaxBin, 2, 255),
		params.AtLeast("early_stopping", p.EarlyStoppingRounds, 0),
		params.IntsIn("eval_at", p.EvalAt, 1, math.MaxInt32),
	)
}

// lightGBMParams lists the parameters as LightGBM writes them in a model's parameters block.
func (p *Params) lightGBMParams() [][2]string {
	f := formatFloat
	i := strconv.Itoa
	at := make([]string, len(p.EvalAt))
	for j, k := range p.EvalAt {
		at[j] = i(k)
	}
	ps := [][2]string{
		{"boosting", "gbdt"},
		{"objective", p.Objective},
		{"num_iterations", i(p.NumTrees)},
		{"learning_rate", f(p.LearningRate)},
		{"num_leaves", i(p.NumLeaves)},
		{"max_depth", i(depthParam(p.MaxDepth))},
		{"min_data_in_leaf", i(p.MinDataInLeaf)},
		{"min_sum_hessian_in_leaf", f(p.MinSumHessianInLeaf)},
		{"bagging_fraction", f(p.BaggingFraction)},
		{"bagging_freq", i(p.BaggingFreq)},
		{"feature_fraction", f(p.FeatureFraction)},
		{"lambda_l2", f(p.LambdaL2)},
		{"min_gain_to_split", f(p.MinGainToSplit)},
		{"early_stopping_round", i(p.EarlyStoppingRounds)},
		{"max_bin", i(p.MaxBin)},
		{"bin_construct_sample_cnt", i(p.BinSampleCount)},
		{"seed", strconv.Itoa(p.Seed)},
		{"sigmoid", f(p.Sigmoid)},
	}
	if p.Objective == ObjectiveLambdarank {
		ps = append(ps,
			[2]string{"lambdarank_truncation_level", i(p.LambdarankTruncationLevel)},
			[2]string{"lambdarank_norm", b01(!p.LambdarankNoNorm)},
			[2]string{"eval_at", strings.Join(at, ",")},
		)
		if p.LabelGain != nil {
			g := make([]string, len(p.LabelGain))
			for j, v := range p.LabelGain {
				g[j] = f(v)
			}
			ps = append(ps, [2]string{"label_gain", strings.Join(g, ",")})
		}
	}
	return ps
}

// b01 writes a bool as LightGBM does in its parameters block.
func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// depthParam is max_depth as LightGBM writes it: -1 for no limit.
func depthParam(depth int) int {
	if depth <= 0 {
		return -1
	}
	return depth
}
