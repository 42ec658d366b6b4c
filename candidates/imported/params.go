package imported

import (
	"encoding/json"
	"fmt"

	"github.com/cascade-rec/cascade/params"
)

// Formats accepted in Params.Format.
const (
	FormatSparkALS = "spark-als" // a Spark MLlib ALSModel.save directory
	FormatNPY      = "npy"       // NumPy .npy matrices with text files of row IDs
)

// Fold-in methods accepted in Params.Fold.
const (
	// FoldALS solves the ALS user equation against the imported item factors (implicit or
	// explicit per Params.Implicit), exactly as Spark's ALS solves a user row.
	FoldALS = "als"
	// FoldMean averages the history's item vectors.
	FoldMean = "mean"
)

// maxHistory bounds Params.HistoryLen so that a typo cannot ask for unbounded scratch.
const maxHistory = 1 << 20

// Params name the files of an imported model and how it serves. Start from DefaultParams.
//
// Relative paths are resolved against the working directory of the process that trains (a
// bundle holds the aligned factors, so serving never reads the files).
type Params struct {
	// Format is FormatSparkALS or FormatNPY.
	Format string `yaml:"format"`
	// Path is the directory Spark's ALSModel.save wrote (spark-als): userFactors/ and
	// itemFactors/ Parquet part files and metadata/.
	Path string `yaml:"path"`
	// Items and Users are .npy matrices (npy): one row per item (user), float32 or float64.
	// Users is optional.
	Items string `yaml:"items"`
	Users string `yaml:"users"`
	// ItemIDs and UserIDs are text files of external IDs, one per line. For npy, line n names
	// row n of Items (Users); ItemIDs is required, and UserIDs goes with Users. For spark-als
	// they are optional: line n names the entity Spark knows as integer n (the labels of the
	// StringIndexer that made Spark's IDs); without them Spark's integer n stands for the
	// external ID written in decimal ("17").
	ItemIDs string `yaml:"item_ids"`
	UserIDs string `yaml:"user_ids"`
	// FoldIn computes every user's vector from the request's history, also for users the files
	// have a vector for; without it those users are served their imported vector and only the
	// others are folded in.
	FoldIn bool `yaml:"fold_in"`
	// Fold is the fold-in method: FoldALS (the default for spark-als) or FoldMean (the default
	// for npy). Empty means the format's default.
	Fold string `yaml:"fold"`
	// Implicit selects the implicit-feedback user equation for FoldALS (Spark's
	// implicitPrefs=True, the default here); false solves Spark's explicit equation from the
	// history's ratings.
	Implicit bool `yaml:"implicit"`
	// Reg is Spark's regParam λ for FoldALS: the user equation is regularised by λ·n_u, n_u
	// being the number of distinct history items (Spark's ALS-WR scaling).
	Reg float64 `yaml:"reg"`
	// Alpha is Spark's alpha for the implicit FoldALS: confidence c = 1 + Alpha·count.
	Alpha float64 `yaml:"alpha"`
	// HistoryLen folds in only the latest HistoryLen events of the request (0: all of them).
	HistoryLen int `yaml:"history_len"`
}

// DefaultParams returns Spark ALS's own defaults for the fold-in (regParam 0.1, alpha 1.0) with
// implicit feedback; the format and files must be set.
func DefaultParams() Params {
	return Params{Implicit: true, Reg: 0.1, Alpha: 1}
}

// fold returns the fold-in method in effect.
func (p Params) fold() string {
	if p.Fold != "" {
		return p.Fold
	}
	if p.Format == FormatNPY {
		return FoldMean
	}
	return FoldALS
}

// Validate reports the first invalid field as a params.FieldError naming its YAML key. It reads
// no file: a pipeline file is validated where the files may not exist (a serving machine).
func (p Params) Validate() error {
	switch p.Format {
	case FormatSparkALS:
		if p.Path == "" {
			return params.Errorf("path", "format %s needs the model directory (ALSModel.save's path)", FormatSparkALS)
		}
		if p.Items != "" {
			return params.Errorf("items", "only format %s reads .npy matrices; %s reads path", FormatNPY, FormatSparkALS)
		}
		if p.Users != "" {
			return params.Errorf("users", "only format %s reads .npy matrices; %s reads path", FormatNPY, FormatSparkALS)
		}
	case FormatNPY:
		if p.Items == "" {
			return params.Errorf("items", "format %s needs the item matrix (.npy)", FormatNPY)
		}
		if p.ItemIDs == "" {
			return params.Errorf("item_ids", "format %s needs the item IDs file (one external ID per row of items)", FormatNPY)
		}
		if p.Users != "" && p.UserIDs == "" {
			return params.Errorf("user_ids", "users needs user_ids (one external ID per row of users)")
		}
		if p.UserIDs != "" && p.Users == "" {
			return params.Errorf("users", "user_ids names the rows of a users matrix, and there is none")
		}
		if p.Path != "" {
			return params.Errorf("path", "only format %s reads a model directory; %s reads items and users", FormatSparkALS, FormatNPY)
		}
	case "":
		return params.Errorf("format", "is required: %s or %s", FormatSparkALS, FormatNPY)
	default:
		return params.Errorf("format", "must be %s or %s, got %q", FormatSparkALS, FormatNPY, p.Format)
	}
	switch p.Fold {
	case "", FoldALS, FoldMean:
	default:
		return params.Errorf("fold", "must be %s or %s, got %q", FoldALS, FoldMean, p.Fold)
	}
	return params.First(
		params.Positive("reg", p.Reg), // λ > 0 keeps the user equation positive definite
		params.NonNegative("alpha", p.Alpha),
		params.Check(p.HistoryLen >= 0 && p.HistoryLen <= maxHistory, "history_len", p.HistoryLen, fmt.Sprintf("be in [0, %d] (0: the whole history)", maxHistory)),
	)
}

// MarshalJSON writes the parameters under their YAML keys, plus the size and modification time
// of every file they name. The pipeline's model cache keys a trained model by its parameters'
// JSON, so a re-exported model under the same path is imported again rather than served stale.
func (p Params) MarshalJSON() ([]byte, error) {
	type plain struct {
		Format     string   `json:"format"`
		Path       string   `json:"path,omitempty"`
		Items      string   `json:"items,omitempty"`
		Users      string   `json:"users,omitempty"`
		ItemIDs    string   `json:"item_ids,omitempty"`
		UserIDs    string   `json:"user_ids,omitempty"`
		FoldIn     bool     `json:"fold_in"`
		Fold       string   `json:"fold"`
		Implicit   bool     `json:"implicit"`
		Reg        float64  `json:"reg"`
		Alpha      float64  `json:"alpha"`
		HistoryLen int      `json:"history_len"`
		Files      []string `json:"files"`
	}
	return json.Marshal(plain{
		Format: p.Format, Path: p.Path, Items: p.Items, Users: p.Users, ItemIDs: p.ItemIDs, UserIDs: p.UserIDs,
		FoldIn: p.FoldIn, Fold: p.fold(), Implicit: p.Implicit, Reg: p.Reg, Alpha: p.Alpha, HistoryLen: p.HistoryLen,
		Files: fingerprint(p),
	})
}
