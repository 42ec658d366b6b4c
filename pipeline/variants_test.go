package pipeline

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// The buckets of a few users are fixed: a change of hash, salt handling or scaling would move
// users between variants in a running experiment, and must fail here. The values were computed
// outside Go (Python: int.from_bytes(sha256(salt + b"\0" + user).digest()[:8], "big") >> 11,
// divided by 2**53), as another service assigning the same buckets would.
func TestBucketStable(t *testing.T) {
	for _, c := range []struct {
		salt, user string
		want       float64
	}{
		{"exp", "u1", 0.04550784508201866},
		{"exp", "u2", 0.8362212454016972},
		{"exp2", "u1", 0.20783848625491375},
		{"", "", 0.4304816492364817},
	} {
		if got := Bucket(c.salt, c.user); got != c.want {
			t.Errorf("Bucket(%q, %q) = %v, want %v", c.salt, c.user, got, c.want)
		}
	}
	// The salt is separated from the user: ("ab", "c") and ("a", "bc") differ.
	if Bucket("ab", "c") == Bucket("a", "bc") {
		t.Error("salt and user run together")
	}
}

func TestVariantShares(t *testing.T) {
	cfg, err := ParseConfig("v.yaml", []byte(validConfig+`variants:
  - {name: a, share: 0.5}
  - {name: b, share: 0.3}
  - {name: c, share: 0.2}
variant_salt: exp-1
`))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	count := map[string]int{}
	for u := range n {
		user := fmt.Sprintf("user-%d", u)
		v := cfg.VariantOf(user)
		if v != cfg.VariantOf(user) {
			t.Fatal("not deterministic")
		}
		count[v]++
	}
	for name, share := range map[string]float64{"a": 0.5, "b": 0.3, "c": 0.2} {
		// 4 standard deviations of a binomial share.
		if got := float64(count[name]) / n; math.Abs(got-share) > 4*math.Sqrt(share*(1-share)/n) {
			t.Errorf("variant %s: share %.4f, want %.2f", name, got, share)
		}
	}
	// Another salt reshuffles the users.
	other := *cfg
	other.VariantSalt = "exp-2"
	moved := 0
	for u := range 1000 {
		user := fmt.Sprintf("user-%d", u)
		if cfg.VariantOf(user) != other.VariantOf(user) {
			moved++
		}
	}
	if moved < 400 { // independent draws differ with probability 1 − (.25 + .09 + .04) = .62
		t.Errorf("a new salt moved %d of 1000 users", moved)
	}
	if v := (&Config{}).VariantOf("u"); v != "" {
		t.Errorf("no variants: %q", v)
	}
}

func TestVariantConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, variants, key string
	}{
		{"one", "  - {name: a, share: 1}\n", "variants"},
		{"sum", "  - {name: a, share: 0.5}\n  - {name: b, share: 0.4}\n", "variants"},
		{"share", "  - {name: a, share: 0}\n  - {name: b, share: 1}\n", "variants[0].share"},
		{"duplicate", "  - {name: a, share: 0.5}\n  - {name: a, share: 0.5}\n", "variants[1].name"},
		{"unknown ranker", "  - {name: a, share: 0.5}\n  - {name: b, share: 0.5, rankers: [lgbm]}\n", "variants[1].rankers[0]"},
		{"unknown source", "  - {name: a, share: 0.5}\n  - {name: b, share: 0.5, sources: [{model: tt, k: 5}]}\n", "variants[1].sources[0].model"},
		{"bad k", "  - {name: a, share: 0.5}\n  - {name: b, share: 0.5, sources: [{model: pop, k: 0}]}\n", "variants[1].sources[0].k"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("v.yaml", []byte(validConfig+"variants:\n"+c.variants))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != c.key {
				t.Fatalf("err = %v, want a ConfigError at %s", err, c.key)
			}
		})
	}
}
