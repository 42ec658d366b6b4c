package openbandit

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cascade-rec/cascade/ope"
)

// sampleDir locates ../shared/datasets/open-bandit-sample beside the repository, or skips.
func sampleDir(tb testing.TB) string {
	tb.Helper()
	for _, base := range []string{"../../../shared/datasets", "../../shared/datasets"} {
		dir := filepath.Join(base, "open-bandit-sample")
		if st, err := os.Stat(filepath.Join(dir, PolicyRandom)); err == nil && st.IsDir() {
			return dir
		}
	}
	tb.Skip("Open Bandit sample not found beside the repository (../shared/datasets/open-bandit-sample); skipping")
	return ""
}

// The real sample: its documented shape (README.md: 10,000 impressions per file, 34 and 46
// items, 69 clicks in the BTS men log, 46 in each other log), uniform propensities in the random
// logs, and both directions evaluated, with the BTS probabilities' own uncertainty small beside
// the estimates' standard errors (as docs/ope.md says).
func TestOpenBanditSample(t *testing.T) {
	dir := sampleDir(t)
	names, err := Campaigns(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "men" || names[1] != "women" {
		t.Fatalf("campaigns %v, want [men women]", names)
	}
	want := map[string]struct {
		items             int
		randomCTR, btsCTR float64
	}{"men": {34, 0.0046, 0.0069}, "women": {46, 0.0046, 0.0046}}
	for _, name := range names {
		c, err := LoadCampaign(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		if c.Items != w.items || len(c.Random) != 10000 || len(c.BTS) != 10000 {
			t.Errorf("%s: %d items, %d random and %d BTS rows", name, c.Items, len(c.Random), len(c.BTS))
		}
		res, err := Evaluate(context.Background(), c, Options{Options: ope.Options{Seed: 1, Logger: quiet}, PolicyResamples: 20})
		if err != nil {
			t.Fatal(err)
		}
		if v := res[RandomToBTS].OnPolicy.Value; !near(v, w.btsCTR) {
			t.Errorf("%s: BTS on-policy %g, want %g", name, v, w.btsCTR)
		}
		if v := res[BTSToRandom].OnPolicy.Value; !near(v, w.randomCTR) {
			t.Errorf("%s: random on-policy %g, want %g", name, v, w.randomCTR)
		}
		d := res[RandomToBTS]
		for j, e := range d.Estimates() {
			if sd := d.PolicySD[j]; sd > 0.1*e.StdErr {
				t.Errorf("%s %s: BTS probabilities' sd %g is more than 10%% of the std err %g", name, e.Estimator, sd, e.StdErr)
			}
			if e.Value <= 0 || e.Value > 0.05 {
				t.Errorf("%s random_to_bts %s = %g, not a plausible click rate", name, e.Estimator, e.Value)
			}
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }
