package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cascade-rec/cascade/servedlog"
)

// A round's log holds servedlog.Entry lines: the server's served-log format, plus what the
// simulation adds (the policy, the round, each item's propensity and click, and the slate's exact
// expected reward). The server's per-stage timings are left out (they vary from run to run and
// the log is deterministic).

// roundLogName is the file of round r under the output directory.
func roundLogName(dir string, r int) string {
	return filepath.Join(dir, fmt.Sprintf("round-%03d.jsonl", r))
}

// writeRoundLog writes every policy's served slates of round r, policy by policy, users in order;
// variants names the pipeline variant of the policies that serve one.
func writeRoundLog(path string, r int, served map[string][]Served, names []string, rewards map[string][]float64, variants map[string]string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("simulate: %w", cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	enc := json.NewEncoder(bw)
	for _, name := range names {
		for n, s := range served[name] {
			req := s.Request
			round, reward := r, rewards[name][n]
			e := servedlog.Entry{
				RequestID:      fmt.Sprintf("%s-r%d-u%d", name, r, req.User),
				Time:           time.Unix(req.Time, 0).UTC(),
				QueryTime:      req.Time,
				User:           "u" + strconv.Itoa(req.User),
				UserKnown:      true,
				ModelVersion:   fmt.Sprintf("%s@round%d", name, r),
				Variant:        variants[name],
				HistoryLen:     req.historyLen,
				Fallback:       s.Fallback,
				FeatureNames:   s.FeatureNames,
				Policy:         name,
				Round:          &round,
				ExpectedReward: &reward,
			}
			for k, slot := range s.Slots {
				prop, clicked := slot.Propensity, s.Clicked[k]
				it := servedlog.Item{
					ItemID:     "i" + strconv.Itoa(slot.Item),
					Position:   slot.Position,
					Score:      servedlog.Float(slot.Score),
					Sources:    slot.Sources,
					Propensity: &prop,
					Clicked:    &clicked,
				}
				for _, v := range slot.Features {
					it.Features = append(it.Features, servedlog.Float(v))
				}
				e.Items = append(e.Items, it)
			}
			if err := enc.Encode(e); err != nil {
				return fmt.Errorf("simulate: writing %s: %w", path, err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("simulate: writing %s: %w", path, err)
	}
	return nil
}
