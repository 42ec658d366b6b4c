package report

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cascade-rec/cascade/replay"
)

// Write writes dir/report.md with the side-by-side table and two PNG plots: ndcg@K per
// configuration (ndcg.png), and recall@N per stage of each configuration (recall.png).
func Write(dir string, names []string, reps []*replay.Report) error {
	if len(names) != len(reps) {
		return fmt.Errorf("report: %d names for %d reports", len(names), len(reps))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := plotNDCG(filepath.Join(dir, "ndcg.png"), names, reps); err != nil {
		return err
	}
	if err := plotRecall(filepath.Join(dir, "recall.png"), names, reps); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Replay report (%s)\n\n", protocols(reps))
	if len(reps) > 0 {
		r := reps[0]
		fmt.Fprintf(&b, "Data set `%s`: %d train events, %d test steps (%d without history; %d warm, %d cold).\n\n", r.Dataset, r.TrainEvents, r.TestSteps, r.NoHistorySteps, r.WarmSteps, r.ColdSteps)
	}
	b.WriteString("```\n")
	if err := replay.WriteTable(&b, names, reps); err != nil {
		return err
	}
	b.WriteString("```\n\n![ndcg@K per configuration](ndcg.png)\n\n![recall@N per stage](recall.png)\n")
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// subject names what the reports measured, for plot titles: the data set(s) and the protocol(s),
// e.g. "ml-100k, replay-v1".
func subject(reps []*replay.Report) string {
	var sets []string
	for _, r := range reps {
		name := r.Dataset
		if name == "" {
			name = "unnamed data set"
		}
		if !slices.Contains(sets, name) {
			sets = append(sets, name)
		}
	}
	if len(sets) == 0 {
		return protocols(reps)
	}
	return strings.Join(sets, " / ") + ", " + protocols(reps)
}

// protocols names the reports' protocol(s); replay-v1 when none says.
func protocols(reps []*replay.Report) string {
	var ps []string
	for _, r := range reps {
		p := r.Protocol
		if p == "" {
			p = replay.Protocol
		}
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return replay.Protocol
	}
	return strings.Join(ps, " / ")
}
