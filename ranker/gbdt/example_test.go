package gbdt_test

import (
	"fmt"
	"log"

	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// Load a LightGBM model (here a hand-written v4 file), check it against the pipeline's
// feature schema and score a batch of candidates, reusing the output slice.
func ExampleLoadFile() {
	m, err := gbdt.LoadFile("testdata/v4_two_trees.txt")
	if err != nil {
		log.Fatal(err)
	}
	if err := m.CheckFeatures([]string{"f0", "f1", "f2"}); err != nil {
		log.Fatal(err)
	}
	batch := []float64{ // row-major: 2 candidates × 3 features
		0.5, 0, 1,
		1, 1.6, 3,
	}
	scores := make([]float64, 2)
	if err := m.Score(batch, scores); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.2f %.2f\n", scores[0], scores[1])
	fmt.Println(m.CheckFeatures([]string{"f0", "f1", "price"}))
	// Output:
	// 0.05 0.25
	// gbdt: feature mismatch: missing from the schema: f2; not in the model: price
}
