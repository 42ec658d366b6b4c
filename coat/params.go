package coat

import "github.com/cascade-rec/cascade/params"

// Weightings of the training ratings.
const (
	Naive = "naive" // every rating weighs 1: the self-selection bias is learned as is
	IPS   = "ips"   // each rating weighs the inverse of its propensity
)

// Params are the parameters of the explicit_mf model kind, as a pipeline file writes them; any
// but weighting may be a grid.
type Params struct {
	// Weighting is naive or ips. It also decides the validation estimator: plain MSE for naive,
	// the IPS-weighted (self-normalised) MSE for ips, so a grid over it would compare unlike
	// figures and is refused.
	Weighting  string  `yaml:"weighting" json:"weighting"`
	Factors    int     `yaml:"factors" json:"factors"`
	Lambda     float64 `yaml:"lambda" json:"lambda"`
	Iterations int     `yaml:"iterations" json:"iterations"`
	// Normalise scales IPS weights to average 1 (λ then means what it means unweighted).
	Normalise bool `yaml:"normalise" json:"normalise"`
	// MinPropensity raises smaller propensities to it (ips only; 0: none): weight clipping.
	MinPropensity float64 `yaml:"min_propensity" json:"min_propensity"`
	// Seed draws the initial item factors.
	Seed uint64 `yaml:"seed" json:"seed"`
}

// DefaultParams are explicit_mf's defaults.
func DefaultParams() Params {
	return Params{Weighting: Naive, Factors: 10, Lambda: 10, Iterations: 10, Normalise: true, Seed: 1}
}

// Validate names the first bad parameter as a params.FieldError.
func (p Params) Validate() error {
	return params.First(
		params.In("weighting", p.Weighting, Naive, IPS),
		params.Check(p.MinPropensity >= 0 && p.MinPropensity < 1, "min_propensity", p.MinPropensity, "be in [0, 1)"),
		params.Check(p.MinPropensity == 0 || p.Weighting == IPS, "min_propensity", p.MinPropensity, "be 0 unless weighting is ips (only ips uses propensities)"),
		p.Config().Validate(),
	)
}

// Config is the factorisation's part of the parameters.
func (p Params) Config() Config {
	return Config{Factors: p.Factors, Lambda: p.Lambda, Iterations: p.Iterations, Seed: p.Seed}
}

// weigh returns the ratings weighted for training as p says.
func (p Params) weigh(r []Rating) []Rating {
	if p.Weighting == IPS {
		return WithIPS(r, p.Normalise, p.MinPropensity)
	}
	return Unweighted(r)
}

// forValidation returns the ratings weighted for the validation estimator of p's weighting: raw
// inverse propensities for ips (neither clipped nor normalised, so that every grid point is judged
// by the same unbiased estimate), 1 for naive.
func (p Params) forValidation(r []Rating) []Rating {
	if p.Weighting == IPS {
		return WithIPS(r, false, 0)
	}
	return Unweighted(r)
}
