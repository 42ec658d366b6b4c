package fleet

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cascade-rec/cascade/server"
	"github.com/cascade-rec/cascade/server/internal/redistest"
)

// readyVersion is the model version a replica's /readyz reports.
func readyVersion(t *testing.T, r *replica) string {
	t.Helper()
	var st map[string]string
	if code := getJSON(t, r.public+"/readyz", &st); code != 200 {
		t.Fatalf("readyz: %d %v", code, st)
	}
	return st["model_version"]
}

func rolloutMetric(t *testing.T, r *replica, name string) float64 {
	t.Helper()
	v, ok := metric(t, r.public, name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	return v
}

// modelInfo returns the cascade_model_info series of a replica's /metrics.
func modelInfo(t *testing.T, r *replica) []string {
	t.Helper()
	resp, err := client.Get(r.public + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cascade_model_info{") {
			out = append(out, l)
		}
	}
	return out
}

// pointerCase is one way to announce the fleet's bundle.
type pointerCase struct {
	name  string
	setup func(t *testing.T, srv *redistest.Server) (pointer string, set func(bundle string))
	// status reads a replica's published state ("" when this pointer publishes none).
	status func(t *testing.T, replica string) (state, errMsg string)
}

func TestFleetRollout(t *testing.T) {
	w := getWorld(t)
	var rdb *redis.Client
	redisCase := pointerCase{
		name: "redis key",
		setup: func(t *testing.T, srv *redistest.Server) (string, func(string)) {
			o, _ := redis.ParseURL(srv.URL(3))
			rdb = redis.NewClient(o)
			t.Cleanup(func() { rdb.Close() })
			return srv.URL(3), func(bundle string) {
				if err := rdb.Set(context.Background(), "cascade:bundle:current", bundle, 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
		},
		status: func(t *testing.T, replica string) (string, string) {
			raw, err := rdb.Get(context.Background(), "cascade:bundle:current:replica:"+replica).Result()
			if err != nil {
				return "", err.Error()
			}
			var st struct{ State, Error string }
			json.Unmarshal([]byte(raw), &st)
			return st.State, st.Error
		},
	}
	fileCase := pointerCase{
		name: "file in a shared directory",
		setup: func(t *testing.T, _ *redistest.Server) (string, func(string)) {
			current := filepath.Join(t.TempDir(), "current")
			return current, func(bundle string) {
				if bundle == "v2" { // a symlink to the directory, the other form
					os.Remove(current)
					if err := os.Symlink(filepath.Join(w.root, "v2"), current); err != nil {
						t.Fatal(err)
					}
					return
				}
				tmp := current + ".tmp"
				os.WriteFile(tmp, []byte(bundle+"\n"), 0o644)
				if err := os.Rename(tmp, current); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
	for _, pc := range []pointerCase{redisCase, fileCase} {
		t.Run(pc.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			ptr, set := pc.setup(t, srv)
			follow := func(id string) func(*server.Config) {
				return func(c *server.Config) {
					c.Rollout = server.RolloutConfig{Pointer: ptr, Interval: 50 * time.Millisecond, ReplicaID: id}
				}
			}
			a := startReplica(t, w, srv.URL(0), follow("a"))
			b := startReplica(t, w, srv.URL(0), follow("b"))
			fleet := []*replica{a, b}
			v1 := readyVersion(t, a)
			if readyVersion(t, b) != v1 {
				t.Fatal("the replicas start on different bundles")
			}

			// A bad bundle: refused by every replica; the old one keeps serving.
			set("bad")
			for _, r := range fleet {
				eventually(t, 20*time.Second, "the bad bundle refused", func() bool { return rolloutMetric(t, r, "cascade_rollout_refused_total") == 1 })
			}
			time.Sleep(300 * time.Millisecond) // several more polls: a refusal is not retried
			for i, r := range fleet {
				id := []string{"a", "b"}[i]
				if rolloutMetric(t, r, "cascade_rollout_refused_total") != 1 || rolloutMetric(t, r, "cascade_rollout_in_sync") != 0 {
					t.Errorf("replica %s: refused %v times, in sync %v", id, rolloutMetric(t, r, "cascade_rollout_refused_total"), rolloutMetric(t, r, "cascade_rollout_in_sync"))
				}
				if v := readyVersion(t, r); v != v1 {
					t.Errorf("replica %s: readyz says %s after the refusal, want %s", id, v, v1)
				}
				if ans := recommend(t, r.public, "rollout-user", 5); ans.ModelVersion != v1 || len(ans.Items) != 5 {
					t.Errorf("replica %s: answered by %s with %d items after the refusal", id, ans.ModelVersion, len(ans.Items))
				}
				if !strings.Contains(r.log.String(), "rollout: the bundle the pointer names was refused") || !strings.Contains(r.log.String(), "checksum") {
					t.Errorf("replica %s: no log line for the refusal:\n%s", id, r.log)
				}
				if pc.status != nil {
					if st, msg := pc.status(t, id); st != "refused" || !strings.Contains(msg, "checksum") {
						t.Errorf("replica %s: published state %q (%s), want refused naming the checksum", id, st, msg)
					}
				}
			}

			// A good one: every replica takes it.
			set("v2")
			var v2 string
			for _, r := range fleet {
				eventually(t, 20*time.Second, "the new bundle taken", func() bool { return readyVersion(t, r) != v1 })
				v := readyVersion(t, r)
				if v2 == "" {
					v2 = v
				}
				if v != v2 || rolloutMetric(t, r, "cascade_rollout_applied_total") != 1 || rolloutMetric(t, r, "cascade_rollout_in_sync") != 1 {
					t.Errorf("replica on %s (fleet %s), applied %v", v, v2, rolloutMetric(t, r, "cascade_rollout_applied_total"))
				}
				if ans := recommend(t, r.public, "rollout-user", 5); ans.ModelVersion != v2 {
					t.Errorf("answered by %s, want %s", ans.ModelVersion, v2)
				}
				if info := modelInfo(t, r); len(info) != 1 || !strings.Contains(info[0], `version="`+v2+`"`) {
					t.Errorf("metrics report the bundles %q, want only %s", info, v2)
				}
			}
			for i := range fleet {
				if pc.status != nil {
					if st, msg := pc.status(t, []string{"a", "b"}[i]); st != "ok" {
						t.Errorf("published state %q (%s) after the good bundle", st, msg)
					}
				}
			}

			// A replica that starts now joins the fleet's bundle before it listens, whatever its
			// --models says.
			c := startReplica(t, w, srv.URL(0), follow("c"))
			if v := readyVersion(t, c); v != v2 {
				t.Errorf("a replica started after the rollout serves %s, want %s", v, v2)
			}
		})
	}
}

// A rollout pointer names directories inside the bundle root, so it needs one.
func TestRolloutNeedsBundleRoot(t *testing.T) {
	w := getWorld(t)
	_, err := server.New(server.Config{
		Pipeline: w.cfg, Dataset: w.ds, Models: filepath.Join(w.root, "v1"), Logger: quiet(),
		Rollout: server.RolloutConfig{Pointer: filepath.Join(t.TempDir(), "current")},
	})
	if err == nil || !strings.Contains(err.Error(), "--bundles") {
		t.Fatalf("a rollout without a bundle root: %v", err)
	}
}
