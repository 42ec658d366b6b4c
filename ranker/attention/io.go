package attention

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/nn"
)

// format is the artifact kind and version of a saved model.
var format = artifact.Format{Kind: "attention", Version: 1}

// Save writes the model to path as an artifact of kind "attention" and returns the file's hex
// SHA-256. The file holds the parameters, the item count, the feature schema with its
// standardisation, and every weight by name and shape.
func (m *Model) Save(path string) (string, error) {
	return format.Save(path, func(e *artifact.Encoder) {
		e.JSON(m.p)
		e.Int(m.net.numItems)
		e.Strings(m.features)
		e.Float32s(m.net.mean)
		e.Float32s(m.net.std)
		nn.WriteParams(e, m.net.params())
	})
}

// Load reads a model written by Save. A damaged, foreign or inconsistent file is refused with an
// error wrapping artifact.ErrCorrupt.
func Load(path string) (*Model, error) {
	return artifact.Load(path, format, decode)
}

func decode(payload []byte) (*Model, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", artifact.ErrCorrupt, fmt.Sprintf(format, args...))
	}
	d := artifact.NewDecoder(payload)
	pj := d.String()
	numItems := d.Int()
	features := d.Strings()
	mean, std := d.Float32s(), d.Float32s()
	tensors, err := nn.ReadParams(d)
	if err != nil {
		return nil, err
	}
	if err := d.Err(); err != nil {
		return nil, err
	}

	var p Params
	if err := json.Unmarshal([]byte(pj), &p); err != nil {
		return nil, corrupt("parameters: %v", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", artifact.ErrCorrupt, err)
	}
	if numItems < 0 || int64(numItems)*int64(p.Dim) > int64(len(payload)) {
		return nil, corrupt("item count %d does not fit the file", numItems)
	}
	nf := len(features)
	if len(mean) != nf || len(std) != nf {
		return nil, corrupt("%d features with %d means and %d deviations", nf, len(mean), len(std))
	}
	for j := range std {
		if !finite(mean[j]) || !finite(std[j]) || std[j] <= 0 {
			return nil, corrupt("feature %q: mean %v, std %v", features[j], mean[j], std[j])
		}
	}
	// Rebuild the architecture, then overwrite its random initial weights.
	nt := newNet(p, numItems, nf, rand.New(rand.NewPCG(0, 0)))
	copy(nt.mean, mean)
	copy(nt.std, std)
	if err := tensors.Restore(nt.params()); err != nil {
		return nil, err
	}
	return newModel(p, features, nt), nil
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
