package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogLinesWhenNotATerminal(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	r := New("train", 10, Options{Logger: logger, Interval: time.Nanosecond, Writer: &bytes.Buffer{}})
	r.Describe("loss %.2f", 0.5)
	time.Sleep(time.Millisecond)
	r.Add(4)
	r.Finish()
	out := logs.String()
	for _, want := range []string{"msg=progress", "task=train", "done=4", "total=10", `status="loss 0.50"`, "msg=done"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

func TestDisabledAndNil(t *testing.T) {
	var logs bytes.Buffer
	r := New("x", 3, Options{Disabled: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r.Add(3)
	r.Finish()
	if logs.Len() != 0 {
		t.Fatalf("disabled reporter logged %q", logs.String())
	}
	var none *Reporter
	none.Add(1) // a nil reporter is a no-op, so callers need no checks
	none.Describe("x")
	none.Finish()
}
