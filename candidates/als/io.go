package als

import (
	"fmt"

	"github.com/cascade-rec/cascade/artifact"
)

// Artifact kinds of the two models, and their formats.
const (
	KindIALS = "ials"
	KindALS  = "als"
)

var (
	ialsFormat = artifact.Format{Kind: KindIALS, Version: 1}
	alsFormat  = artifact.Format{Kind: KindALS, Version: 1}
)

// LoadIALS reads a model written by IALSModel.Save. A damaged or inconsistent file is refused
// with an error wrapping artifact.ErrCorrupt.
func LoadIALS(path string) (*IALSModel, error) {
	var p IALSParams
	return loadFactors(path, ialsFormat, p.fields(), &p.Factors, func() error { return p.Validate() },
		func(f savedFactors) *IALSModel { return newIALSModel(p, f.numUsers, f.numItems, f.users, f.items) })
}

// LoadALS reads a model written by ALSModel.Save. A damaged or inconsistent file is refused with
// an error wrapping artifact.ErrCorrupt.
func LoadALS(path string) (*ALSModel, error) {
	var p ALSParams
	return loadFactors(path, alsFormat, p.fields(), &p.Factors, func() error { return p.Validate() },
		func(f savedFactors) *ALSModel { return newALSModel(p, f.numUsers, f.numItems, f.users, f.items) })
}

// loadFactors is LoadIALS and LoadALS, which differ only in their parameters and constructor:
// it reads the artifact of format f into the stored parameter fields (k is the factor count among
// them, validate checks them once read) and hands the factors to build.
func loadFactors[M any](path string, f artifact.Format, fields []any, k *int, validate func() error, build func(savedFactors) M) (M, error) {
	return artifact.Load(path, f, func(payload []byte) (M, error) {
		f, err := readModel(payload, fields, k, validate)
		if err != nil {
			var zero M
			return zero, err
		}
		return build(f), nil
	})
}

// fields lists the parameters as they are stored, in file order, for save and load alike.
func (p *IALSParams) fields() []any {
	return []any{&p.Factors, &p.Alpha, &p.Reg, &p.RegExponent, &p.Iterations, &p.Solver, &p.CGSteps, &p.Seed, &p.Workers}
}

func (p *ALSParams) fields() []any {
	return []any{&p.Factors, &p.Reg, &p.Iterations, &p.Seed, &p.Workers}
}

// putFields writes the values fields point to; an int64 is stored as its uint64 bits.
func putFields(e *artifact.Encoder, fields []any) {
	for _, f := range fields {
		switch v := f.(type) {
		case *int:
			e.Int(*v)
		case *int64:
			e.Uint64(uint64(*v))
		case *float64:
			e.Float64(*v)
		case *string:
			e.String(*v)
		default:
			panic(fmt.Sprintf("als: no encoding for a parameter of type %T", f))
		}
	}
}

// getFields reads what putFields wrote into the values fields point to.
func getFields(d *artifact.Decoder, fields []any) {
	for _, f := range fields {
		switch v := f.(type) {
		case *int:
			*v = d.Int()
		case *int64:
			*v = int64(d.Uint64())
		case *float64:
			*v = d.Float64()
		case *string:
			*v = d.String()
		default:
			panic(fmt.Sprintf("als: no encoding for a parameter of type %T", f))
		}
	}
}
