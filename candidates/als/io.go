package als

import (
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/artifact"
)

// Artifact kinds and the payload format versions this build writes (and the newest it reads).
const (
	KindIALS    = "ials"
	KindALS     = "als"
	ialsVersion = 1
	alsVersion  = 1
)

// Save writes the model to path as an artifact of kind "ials" and returns the file's hex SHA-256.
func (m *IALSModel) Save(path string) (string, error) {
	var e artifact.Encoder
	p := m.params
	e.Int(p.Factors)
	e.Float64(p.Alpha)
	e.Float64(p.Reg)
	e.Float64(p.RegExponent)
	e.Int(p.Iterations)
	e.String(p.Solver)
	e.Int(p.CGSteps)
	e.Uint64(uint64(p.Seed))
	e.Int(p.Workers)
	e.Int(m.numUsers)
	e.Int(m.numItems)
	e.Float32s(m.users)
	e.Float32s(m.items)
	sum, err := artifact.WriteFile(path, artifact.Header{Kind: KindIALS, Version: ialsVersion}, e.Bytes())
	if err != nil {
		return "", fmt.Errorf("save ials model: %w", err)
	}
	return sum, nil
}

// LoadIALS reads a model written by IALSModel.Save. A damaged or inconsistent file is refused
// with an error wrapping artifact.ErrCorrupt.
func LoadIALS(path string) (*IALSModel, error) {
	_, payload, err := artifact.ReadFile(path, KindIALS, ialsVersion)
	if err != nil {
		return nil, fmt.Errorf("load ials model: %w", err)
	}
	d := artifact.NewDecoder(payload)
	var p IALSParams
	p.Factors = d.Int()
	p.Alpha = d.Float64()
	p.Reg = d.Float64()
	p.RegExponent = d.Float64()
	p.Iterations = d.Int()
	p.Solver = d.String()
	p.CGSteps = d.Int()
	p.Seed = int64(d.Uint64())
	p.Workers = d.Int()
	numUsers, numItems := d.Int(), d.Int()
	users, items := d.Float32s(), d.Float32s()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("load ials model %s: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("load ials model %s: %w: %w", path, artifact.ErrCorrupt, err)
	}
	if err := checkFactors(p.Factors, numUsers, numItems, users, items); err != nil {
		return nil, fmt.Errorf("load ials model %s: %w", path, err)
	}
	return newIALSModel(p, numUsers, numItems, users, items), nil
}

// Save writes the model to path as an artifact of kind "als" and returns the file's hex SHA-256.
func (m *ALSModel) Save(path string) (string, error) {
	var e artifact.Encoder
	p := m.params
	e.Int(p.Factors)
	e.Float64(p.Reg)
	e.Int(p.Iterations)
	e.Uint64(uint64(p.Seed))
	e.Int(p.Workers)
	e.Int(m.numUsers)
	e.Int(m.numItems)
	e.Float32s(m.users)
	e.Float32s(m.items)
	sum, err := artifact.WriteFile(path, artifact.Header{Kind: KindALS, Version: alsVersion}, e.Bytes())
	if err != nil {
		return "", fmt.Errorf("save als model: %w", err)
	}
	return sum, nil
}

// LoadALS reads a model written by ALSModel.Save. A damaged or inconsistent file is refused with
// an error wrapping artifact.ErrCorrupt.
func LoadALS(path string) (*ALSModel, error) {
	_, payload, err := artifact.ReadFile(path, KindALS, alsVersion)
	if err != nil {
		return nil, fmt.Errorf("load als model: %w", err)
	}
	d := artifact.NewDecoder(payload)
	var p ALSParams
	p.Factors = d.Int()
	p.Reg = d.Float64()
	p.Iterations = d.Int()
	p.Seed = int64(d.Uint64())
	p.Workers = d.Int()
	numUsers, numItems := d.Int(), d.Int()
	users, items := d.Float32s(), d.Float32s()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("load als model %s: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("load als model %s: %w: %w", path, artifact.ErrCorrupt, err)
	}
	if err := checkFactors(p.Factors, numUsers, numItems, users, items); err != nil {
		return nil, fmt.Errorf("load als model %s: %w", path, err)
	}
	return newALSModel(p, numUsers, numItems, users, items), nil
}

// checkFactors verifies that the factor matrices match the stated shape and are finite.
func checkFactors(k, numUsers, numItems int, users, items []float32) error {
	if numUsers < 0 || numItems < 0 || numUsers > math.MaxInt32 || numItems > math.MaxInt32 ||
		len(users) != numUsers*k || len(items) != numItems*k {
		return fmt.Errorf("%w: factor shapes %d and %d do not match %d users, %d items, %d factors",
			artifact.ErrCorrupt, len(users), len(items), numUsers, numItems, k)
	}
	for _, f := range [][]float32{users, items} {
		for _, v := range f {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: non-finite factor %v", artifact.ErrCorrupt, v)
			}
		}
	}
	return nil
}
