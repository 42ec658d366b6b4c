package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Variants: a pipeline file may split its users between versions of the pipeline, each served
// from the same trained bundle with some stages changed, for an A/B test:
//
//	variants:
//	  - {name: control, share: 0.5}
//	  - {name: no-rankers, share: 0.25, rankers: []}
//	  - {name: ials-only, share: 0.25, sources: [{model: ials, k: 300}]}
//
// A user's variant is a pure function of the user ID and the salt (Bucket), so every replica,
// restart and reload puts a user in the same variant, and a request's variant needs no state.

// VariantConfig is one version of the pipeline and its share of the users.
type VariantConfig struct {
	Name  string  `yaml:"name"`
	Share float64 `yaml:"share"` // in (0, 1]; the shares sum to 1
	// Rankers, when given, keeps only these of the bundle's rankers, in this order; [] serves
	// the retrieval order. A ranker that reads a dropped ranker's score cannot run without it.
	Rankers *[]string `yaml:"rankers"`
	// Sources, when given, replaces retrieve.sources (models the file declares).
	Sources []SourceConfig `yaml:"sources"`
}

// Bucket maps a user to [0, 1): the first 8 bytes of SHA-256(salt, a zero byte, user ID) as a
// big-endian integer, its top 53 bits divided by 2^53. SHA-256 has no seed and no process
// randomness, so the bucket is the same in every replica, restart and language; and unlike a
// fast hash such as FNV-1a, whose top bits barely move when only the last byte of the ID does,
// it spreads sequential IDs (user-1, user-2, …) evenly.
func Bucket(salt, user string) float64 {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(user))
	var sum [sha256.Size]byte
	return float64(binary.BigEndian.Uint64(h.Sum(sum[:0]))>>11) / (1 << 53)
}

// VariantOf names the variant that serves user: the first whose cumulative share (in file
// order) exceeds the user's bucket. It is "" when the file declares no variants.
func (c *Config) VariantOf(user string) string {
	if i := c.variantIndex(user); i >= 0 {
		return c.Variants[i].Name
	}
	return ""
}

func (c *Config) variantIndex(user string) int {
	if len(c.Variants) == 0 {
		return -1
	}
	b, sum := Bucket(c.variantSalt(), user), 0.0
	for i, v := range c.Variants {
		sum += v.Share
		if b < sum {
			return i
		}
	}
	return len(c.Variants) - 1 // shares summing to 1 within rounding
}

func (c *Config) variantSalt() string {
	if c.VariantSalt != "" {
		return c.VariantSalt
	}
	return c.Name
}

// validateVariants checks names, shares and what each variant changes.
func (c *Config) validateVariants() error {
	if len(c.Variants) == 0 {
		return nil
	}
	if len(c.Variants) < 2 {
		return c.errorf("variants", "an experiment needs at least two variants, got 1")
	}
	seen := map[string]bool{}
	sum := 0.0
	for i, v := range c.Variants {
		key := fmt.Sprintf("variants[%d]", i)
		if v.Name == "" || seen[v.Name] || strings.ContainsAny(v.Name, " \t\n,") {
			return c.errorf(key+".name", "each variant needs a unique name without spaces or commas (got %q)", v.Name)
		}
		seen[v.Name] = true
		if !(v.Share > 0 && v.Share <= 1) {
			return c.errorf(key+".share", "must be in (0, 1], got %v", v.Share)
		}
		sum += v.Share
		if v.Rankers != nil {
			for j, r := range *v.Rankers {
				if !slices.ContainsFunc(c.Rankers, func(rc RankerConfig) bool { return rc.Name == r }) {
					return c.errorf(fmt.Sprintf("%s.rankers[%d]", key, j), "no ranker named %q in this file", r)
				}
			}
		}
		if v.Sources != nil {
			if err := c.validateSources(key+".sources", v.Sources); err != nil {
				return err
			}
		}
	}
	if math.Abs(sum-1) > 1e-6 {
		return c.errorf("variants", "the shares sum to %v, not 1", sum)
	}
	return nil
}

// forVariant returns the file as variant i serves it, over the bundle's ranking stack.
func (c *Config) forVariant(i int) (*Config, error) {
	v := c.Variants[i]
	out := *c
	out.Variants = nil
	if v.Sources != nil {
		out.Retrieve.Sources = v.Sources
	}
	if v.Rankers != nil {
		var err error
		if out.Rankers, err = keepRankers(c.Rankers, *v.Rankers); err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
	}
	return &out, nil
}

// keepRankers returns the rankers of stack named in names, in that order.
func keepRankers(stack []RankerConfig, names []string) ([]RankerConfig, error) {
	out := []RankerConfig{}
	for _, n := range names {
		i := slices.IndexFunc(stack, func(r RankerConfig) bool { return r.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("ranker %q is not in the bundle's ranking stack (validation may have dropped it): retrain, or leave it out of the variant", n)
		}
		out = append(out, stack[i])
	}
	return out, nil
}

// variant is one variant's assembled pipeline.
type variant struct {
	name string
	p    *Pipeline
}

// ForUser returns the variant that serves user and its pipeline; without variants, "" and p.
func (p *Pipeline) ForUser(user string) (string, *Pipeline) {
	if i := p.cfg.variantIndex(user); i >= 0 && i < len(p.variants) {
		return p.variants[i].name, p.variants[i].p
	}
	return "", p
}

// Variants names the file's variants in order (nil without).
func (p *Pipeline) Variants() []string {
	var names []string
	for _, v := range p.variants {
		names = append(names, v.name)
	}
	return names
}

// Variant returns the named variant's pipeline (nil when the file has no such variant): a
// simulation serves every variant side by side.
func (p *Pipeline) Variant(name string) *Pipeline {
	for _, v := range p.variants {
		if v.name == name {
			return v.p
		}
	}
	return nil
}
