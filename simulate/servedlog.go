package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// servedEntry is one line of a round's log: the server's served-log line (server/servedlog.go:
// request_id, time, query_time, user_id, user_known, model_version, history_len, fallback,
// feature_names, items with item_id, position, score, sources and features) plus what the
// simulation adds: the policy, the round, each item's propensity and click, and the slate's
// exact expected reward. The server's per-stage timings are left out (they vary from run to run
// and the log is deterministic).
type servedEntry struct {
	RequestID    string       `json:"request_id"`
	Time         time.Time    `json:"time"`
	QueryTime    int64        `json:"query_time"`
	User         string       `json:"user_id"`
	UserKnown    bool         `json:"user_known"`
	ModelVersion string       `json:"model_version"`
	HistoryLen   int          `json:"history_len"`
	Fallback     bool         `json:"fallback,omitempty"`
	FeatureNames []string     `json:"feature_names,omitempty"`
	Items        []servedItem `json:"items"`

	Policy         string  `json:"policy"`
	Round          int     `json:"round"`
	ExpectedReward float64 `json:"expected_reward"`
}

type servedItem struct {
	ItemID     string         `json:"item_id"`
	Position   int            `json:"position"`
	Score      jsonFloat      `json:"score"`
	Sources    map[string]int `json:"sources,omitempty"`
	Features   []jsonFloat    `json:"features,omitempty"`
	Propensity float64        `json:"propensity"`
	Clicked    bool           `json:"clicked"`
}

// jsonFloat writes NaN (a missing feature) as null, as the server's log does.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 32), nil
}

// roundLogName is the file of round r under the output directory.
func roundLogName(dir string, r int) string {
	return filepath.Join(dir, fmt.Sprintf("round-%03d.jsonl", r))
}

// writeRoundLog writes every policy's served slates of round r, policy by policy, users in order.
func writeRoundLog(path string, r int, served map[string][]Served, names []string, rewards map[string][]float64) (err error) {
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
			e := servedEntry{
				RequestID:      fmt.Sprintf("%s-r%d-u%d", name, r, req.User),
				Time:           time.Unix(req.Time, 0).UTC(),
				QueryTime:      req.Time,
				User:           "u" + strconv.Itoa(req.User),
				UserKnown:      true,
				ModelVersion:   fmt.Sprintf("%s@round%d", name, r),
				HistoryLen:     req.historyLen,
				Fallback:       s.Fallback,
				FeatureNames:   s.FeatureNames,
				Policy:         name,
				Round:          r,
				ExpectedReward: rewards[name][n],
			}
			for k, slot := range s.Slots {
				it := servedItem{
					ItemID:     "i" + strconv.Itoa(slot.Item),
					Position:   slot.Position,
					Score:      jsonFloat(slot.Score),
					Sources:    slot.Sources,
					Propensity: slot.Propensity,
					Clicked:    s.Clicked[k],
				}
				for _, v := range slot.Features {
					it.Features = append(it.Features, jsonFloat(v))
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
