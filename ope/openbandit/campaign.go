package openbandit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// The logging policies, as the data set's directories name them.
const (
	PolicyRandom = "random"
	PolicyBTS    = "bts"
)

// Campaign is one campaign's two logs.
type Campaign struct {
	Name string
	// Items is the number of items (the rows of item_context.csv).
	Items int
	// Random and BTS are the logs of the uniform-random and the Bernoulli-TS policy.
	Random, BTS []Record
	// RandomFile and BTSFile are the files they were read from.
	RandomFile, BTSFile string
}

// logPath is POLICY/CAMPAIGN/CAMPAIGN.csv under dir.
func logPath(dir, policy, campaign string) string {
	return filepath.Join(dir, policy, campaign, campaign+".csv")
}

// Campaigns lists, sorted, the campaigns under dir that have both a random and a BTS log.
func Campaigns(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, PolicyRandom))
	if err != nil {
		return nil, fmt.Errorf("open bandit data set %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ok := true
		for _, p := range []string{PolicyRandom, PolicyBTS} {
			if _, err := os.Stat(logPath(dir, p, e.Name())); err != nil {
				ok = false
			}
		}
		if ok {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("open bandit data set %s: no campaign has both random/C/C.csv and bts/C/C.csv: %w", dir, fs.ErrNotExist)
	}
	return out, nil
}

// LoadCampaign reads a campaign's item count and both logs.
func LoadCampaign(dir, name string) (*Campaign, error) {
	c := &Campaign{Name: name}
	for _, p := range []string{PolicyRandom, PolicyBTS} {
		n, err := ReadItemCount(filepath.Join(dir, p, name, "item_context.csv"))
		if err != nil {
			return nil, err
		}
		if c.Items != 0 && n != c.Items {
			return nil, fmt.Errorf("campaign %s: %d items in random/, %d in bts/", name, c.Items, n)
		}
		c.Items = n
	}
	var err error
	c.RandomFile, c.BTSFile = logPath(dir, PolicyRandom, name), logPath(dir, PolicyBTS, name)
	if c.Random, err = ReadLog(c.RandomFile, c.Items); err != nil {
		return nil, err
	}
	if c.BTS, err = ReadLog(c.BTSFile, c.Items); err != nil {
		return nil, err
	}
	return c, nil
}

// ErrNotUniform is returned by CheckRandom when the random log's propensities are not 1/items.
var ErrNotUniform = errors.New("the random log's propensities are not 1/items")

// CheckRandom checks that every propensity of the random log is 1/Items (to 1e-9), as the
// uniform policy's probabilities must be for the two directions to be consistent.
func (c *Campaign) CheckRandom() error {
	want := 1 / float64(c.Items)
	for i, r := range c.Random {
		if d := r.Propensity - want; d > 1e-9 || d < -1e-9 {
			return fmt.Errorf("%s: impression %d: propensity %g, want 1/%d: %w", c.RandomFile, i, r.Propensity, c.Items, ErrNotUniform)
		}
	}
	return nil
}
