package params_test

import (
	"errors"
	"fmt"

	"github.com/cascade-rec/cascade/params"
)

type alsParams struct {
	Alpha   float64 `yaml:"alpha"`
	Factors int     `yaml:"factors"`
}

// Validate names the key at fault, relative to the struct.
func (p alsParams) Validate() error {
	if p.Alpha < 0 {
		return params.Errorf("alpha", "must be ≥ 0, got %v", p.Alpha)
	}
	return nil
}

// A Validate error names the struct's own key; the document that holds the struct lifts it to
// the full path, and a caller reads the path from the error, not from its text.
func Example() {
	err := alsParams{Alpha: -1, Factors: 8}.Validate()
	err = params.Prefix("models.ials.params", err)
	fmt.Println(err)

	var fe params.FieldError
	if errors.As(err, &fe) {
		fmt.Printf("key %s: %s\n", fe.Path, fe.Msg)
	}
	// Output:
	// models.ials.params.alpha: must be ≥ 0, got -1
	// key models.ials.params.alpha: must be ≥ 0, got -1
}

// Several invalid fields are joined; Prefix and Fields see each one.
func ExampleFields() {
	err := errors.Join(
		params.Errorf("hidden[1]", "must be in [1, 65536], got 0"),
		params.Errorf("dim", "must be ≥ 1, got 0"),
	)
	for _, fe := range params.Fields(params.Prefix("rankers[0].params", err)) {
		fmt.Println(fe.Path)
	}
	// Output:
	// rankers[0].params.hidden[1]
	// rankers[0].params.dim
}
