package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/servedlog"
)

// TestVariantsReport compares two variants of a served log whose clicks come from an events
// file, as a server's log gets them.
func TestVariantsReport(t *testing.T) {
	dir := t.TempDir()
	var log, events strings.Builder
	events.WriteString("user_id,item_id,timestamp\n")
	enc := json.NewEncoder(&log)
	for u := range 60 {
		user, v := fmt.Sprintf("u%d", u), "control"
		if u%2 == 1 {
			v = "treatment"
		}
		served := time.Unix(int64(1_000_000+u*100), 0).UTC()
		e := servedlog.Entry{RequestID: user, Time: served, User: user, Variant: v}
		for i := range 4 {
			e.Items = append(e.Items, servedlog.Item{ItemID: fmt.Sprintf("i%d", i), Position: i + 1})
		}
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
		// Treatment users click their first item; every third control user does.
		if v == "treatment" || u%3 == 0 {
			fmt.Fprintf(&events, "%s,i0,%d\n", user, served.Unix()+30)
		}
	}
	logPath, evDir := filepath.Join(dir, "served.jsonl"), filepath.Join(dir, "events")
	if err := os.WriteFile(logPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(evDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evDir, "events.csv"), []byte(events.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "v.json")
	stdout, errs, code := runCLI(t, "--quiet", "variants", "--served-log", logPath, "--events", evDir, "--control", "control", "--json", out)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	var rep servedlog.VariantReport
	readJSON(t, out, &rep)
	if len(rep.Variants) != 2 || rep.Variants[0].Name != "control" || rep.Variants[1].Clicks != 30 || rep.Variants[1].Shown != 120 ||
		rep.Variants[1].DiffCI == nil || rep.Variants[1].DiffCI.Lo <= 0 {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(stdout, "treatment") || !strings.Contains(stdout, "vs control") {
		t.Fatalf("table %q", stdout)
	}
	// Without --events this log has no outcomes.
	if _, errs, code := runCLI(t, "--quiet", "variants", "--served-log", logPath); code == 0 || !strings.Contains(errs, "click outcome") {
		t.Fatalf("code %d: %s", code, errs)
	}
}
