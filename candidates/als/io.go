package als

import "github.com/cascade-rec/cascade/artifact"

// Artifact kinds and the payload format versions this build writes (and the newest it reads).
const (
	KindIALS    = "ials"
	KindALS     = "als"
	ialsVersion = 1
	alsVersion  = 1
)

// Save writes the model to path as an artifact of kind "ials" and returns the file's hex SHA-256.
func (m *IALSModel) Save(path string) (string, error) {
	p := m.params
	return m.save(path, ialsVersion, func(e *artifact.Encoder) {
		e.Int(p.Factors)
		e.Float64(p.Alpha)
		e.Float64(p.Reg)
		e.Float64(p.RegExponent)
		e.Int(p.Iterations)
		e.String(p.Solver)
		e.Int(p.CGSteps)
		e.Uint64(uint64(p.Seed))
		e.Int(p.Workers)
	})
}

// LoadIALS reads a model written by IALSModel.Save. A damaged or inconsistent file is refused
// with an error wrapping artifact.ErrCorrupt.
func LoadIALS(path string) (*IALSModel, error) {
	return artifact.Load(path, KindIALS, ialsVersion, func(payload []byte) (*IALSModel, error) {
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
		f, err := readFactors(d, p.Factors, p.Validate)
		if err != nil {
			return nil, err
		}
		return newIALSModel(p, f.numUsers, f.numItems, f.users, f.items), nil
	})
}

// Save writes the model to path as an artifact of kind "als" and returns the file's hex SHA-256.
func (m *ALSModel) Save(path string) (string, error) {
	p := m.params
	return m.save(path, alsVersion, func(e *artifact.Encoder) {
		e.Int(p.Factors)
		e.Float64(p.Reg)
		e.Int(p.Iterations)
		e.Uint64(uint64(p.Seed))
		e.Int(p.Workers)
	})
}

// LoadALS reads a model written by ALSModel.Save. A damaged or inconsistent file is refused with
// an error wrapping artifact.ErrCorrupt.
func LoadALS(path string) (*ALSModel, error) {
	return artifact.Load(path, KindALS, alsVersion, func(payload []byte) (*ALSModel, error) {
		d := artifact.NewDecoder(payload)
		var p ALSParams
		p.Factors = d.Int()
		p.Reg = d.Float64()
		p.Iterations = d.Int()
		p.Seed = int64(d.Uint64())
		p.Workers = d.Int()
		f, err := readFactors(d, p.Factors, p.Validate)
		if err != nil {
			return nil, err
		}
		return newALSModel(p, f.numUsers, f.numItems, f.users, f.items), nil
	})
}
