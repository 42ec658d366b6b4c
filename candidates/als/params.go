package als

import (
	"github.com/cascade-rec/cascade/params"
)

// Solver names accepted in IALSParams.Solver.
const (
	SolverCholesky = "cholesky" // exact row solves: O(nnz·k² + n·k³) per sweep
	SolverCG       = "cg"       // CGSteps warm-started conjugate-gradient steps: O((nnz·k + n·k²)·s)
)

// maxFactors bounds Factors so that a typo in a config cannot ask for terabytes of k×k scratch.
const maxFactors = 4096

// IALSParams configure implicit ALS training. Start from DefaultIALSParams: the zero value is
// not valid.
//
// The objective is Σ_{u,i} c_ui·(p_ui − x_uᵀy_i)² + Σ_u λ_u‖x_u‖² + Σ_i λ_i‖y_i‖² with p_ui = 1 and
// c_ui = 1 + Alpha·r_ui for an observed pair (r_ui its interaction count), p_ui = 0 and c_ui = 1
// for every other pair. The regularisation is λ_u = Reg·(Σ_i c_ui)^RegExponent, where Σ_i c_ui =
// numItems + Alpha·Σ_i r_ui is the user's total confidence (likewise λ_i over users). This is the
// frequency-scaled regularisation of Rendle et al. 2021, (|I_u| + α₀|I|)^ν, written in Hu et al.'s
// parametrisation (α₀ = 1/Alpha up to a constant absorbed in Reg); RegExponent = 0 gives plain λ.
type IALSParams struct {
	Factors     int     `yaml:"factors"`      // k, the embedding dimension
	Alpha       float64 `yaml:"alpha"`        // confidence slope: c = 1 + Alpha·count
	Reg         float64 `yaml:"reg"`          // λ
	RegExponent float64 `yaml:"reg_exponent"` // ν; 0 = plain λ, 1 = λ proportional to total confidence
	Iterations  int     `yaml:"iterations"`   // sweeps over items then users
	Solver      string  `yaml:"solver"`       // "cholesky" or "cg"
	CGSteps     int     `yaml:"cg_steps"`     // conjugate-gradient steps per row and sweep (solver cg)
	Seed        int64   `yaml:"seed"`         // initial factors: normal·1/√k from this seed
	Workers     int     `yaml:"workers"`      // parallel row solves; 0 = GOMAXPROCS (never changes results)
}

// DefaultIALSParams returns the defaults: 64 factors, exact solves, 15 iterations, α = 16,
// λ = 100 — the values the replay-v1 reference tuned on ml-100k. Tune Alpha and Reg per dataset:
// they interact with its density and activity (ml-latest-small's reference chose α = 1, λ = 1).
func DefaultIALSParams() IALSParams {
	return IALSParams{
		Factors:    64,
		Alpha:      16,
		Reg:        100,
		Iterations: 15,
		Solver:     SolverCholesky,
		CGSteps:    3,
		Seed:       1,
	}
}

// Validate reports the first invalid field as a params.FieldError naming its YAML key.
func (p IALSParams) Validate() error {
	if err := validateCommon(p.Factors, p.Reg, p.Iterations, p.Workers); err != nil {
		return err
	}
	if err := params.First(
		params.NonNegative("alpha", p.Alpha),
		params.Check(p.RegExponent >= 0 && p.RegExponent <= 2, "reg_exponent", p.RegExponent, "be in [0, 2]"),
	); err != nil {
		return err
	}
	switch p.Solver {
	case SolverCholesky:
	case SolverCG:
		if p.CGSteps < 1 {
			return params.Errorf("cg_steps", "must be ≥ 1 with solver %q, got %d", SolverCG, p.CGSteps)
		}
	default:
		return params.Errorf("solver", "must be %q or %q, got %q", SolverCholesky, SolverCG, p.Solver)
	}
	return nil
}

// ALSParams configure explicit ALS training. Start from DefaultALSParams.
//
// The objective is Σ_{(u,i) rated} (r_ui − x_uᵀy_i)² + Reg·(Σ_u n_u‖x_u‖² + Σ_i n_i‖y_i‖²), with n_u
// the number of items u rated and n_i the number of users who rated i (weighted-λ, Zhou et al.
// 2008).
type ALSParams struct {
	Factors    int     `yaml:"factors"`
	Reg        float64 `yaml:"reg"`
	Iterations int     `yaml:"iterations"`
	Seed       int64   `yaml:"seed"`
	Workers    int     `yaml:"workers"` // 0 = GOMAXPROCS (never changes results)
}

// DefaultALSParams returns the defaults: 32 factors, λ = 0.05, 15 iterations.
func DefaultALSParams() ALSParams {
	return ALSParams{Factors: 32, Reg: 0.05, Iterations: 15, Seed: 1}
}

// Validate reports the first invalid field as a params.FieldError naming its YAML key.
func (p ALSParams) Validate() error {
	return validateCommon(p.Factors, p.Reg, p.Iterations, p.Workers)
}

func validateCommon(factors int, reg float64, iterations, workers int) error {
	return params.First(
		params.IntIn("factors", factors, 1, maxFactors),
		params.Positive("reg", reg), // λ > 0 keeps every normal-equation matrix positive definite
		params.AtLeast("iterations", iterations, 1),
		params.Check(workers >= 0, "workers", workers, "be ≥ 0 (0 = GOMAXPROCS)"),
	)
}
