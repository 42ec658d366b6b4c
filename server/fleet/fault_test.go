//go:build fault

package fleet

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/server/internal/redistest"
)

// TestFleetFault measures what each Redis persistence setting keeps of the acknowledged events
// when redis-server is killed with SIGKILL while a replica takes events from four clients (at a
// random moment 3–4 s in), then restarted on its directory. It prints a table for
// docs/redis.md.
//
//	go test -tags fault -v -run TestFleetFault ./server/fleet/
func TestFleetFault(t *testing.T) {
	w := getWorld(t)
	const runs = 3
	type row struct {
		setting                string
		acked, kept, minKept   int
		maxLost, refused, runs int
	}
	var rows []row
	for _, tc := range []struct {
		name string
		opt  redistest.Options
		// mustKeep: the setting promises every acknowledged event across a process kill.
		mustKeep bool
	}{
		{"appendonly yes, appendfsync always", redistest.Options{Persistence: redistest.AOFAlways}, true},
		{"appendonly yes, appendfsync everysec", redistest.Options{Persistence: redistest.AOFEverySec}, false},
		{"appendonly no, save 1 1 (RDB snapshot every second with a change)", redistest.Options{Persistence: redistest.RDBOnly, Args: []string{"--save", "1 1"}}, false},
		{"appendonly no, no snapshots", redistest.Options{Persistence: redistest.RDBOnly}, false},
	} {
		r := row{setting: tc.name, minKept: -1}
		for i := range runs {
			t.Run(fmt.Sprintf("%s/%d", strings.ReplaceAll(tc.name, " ", "_"), i), func(t *testing.T) {
				p, acked, kept := redisKillRun(t, w, tc.opt, 3*time.Second)
				r.acked += acked
				r.kept += kept
				r.maxLost = max(r.maxLost, acked-kept)
				r.refused += int(p.refused.Load())
				r.runs++
				if tc.mustKeep && kept != acked {
					t.Errorf("%s: %d acknowledged, %d kept", tc.name, acked, kept)
				}
			})
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| Redis persistence | runs | events acknowledged | kept after restart | lost | most lost in one run | posts refused (503) |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", r.setting, r.runs, r.acked, r.kept, r.acked-r.kept, r.maxLost, r.refused)
	}
	t.Log(b.String())
}
