package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cascade-rec/cascade/server/history"
)

// The history store's durability counters are exported: damage found in the log, users the
// bound dropped, users read back. Here the log has one damaged record when it opens.
func TestHistoryMetrics(t *testing.T) {
	dir := t.TempDir()
	opt := history.Options{Dir: dir, Logger: quietLogger()}
	s, err := history.Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	s.Append(context.Background(), []history.Event{{User: "a", Item: "x"}, {User: "b", Item: "y"}, {User: "c", Item: "z"}})
	s.Close()
	path := filepath.Join(dir, "events.log")
	b, _ := os.ReadFile(path)
	b[len(b)-30] ^= 0xff // inside the second record
	os.WriteFile(path, b, 0o644)
	if s, err = history.Open(opt); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mfs, err := newMetrics(newStoreCollector(s), nil).reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	for name, want := range map[string]float64{
		"cascade_history_log_damaged_runs_total":   1,
		"cascade_history_log_max_bytes":            1 << 30,
		"cascade_history_log_dropped_users_total":  0,
		"cascade_history_read_back_users_total":    0,
		"cascade_history_log_dropped_events_total": 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (exported %v), want %v", name, v, ok, want)
		}
	}
	if got["cascade_history_log_damaged_bytes_total"] == 0 {
		t.Error("damaged bytes not counted")
	}
}
