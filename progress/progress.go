// Package progress reports the progress of long loops (training epochs, replay): a progress bar
// when stderr is a terminal, periodic log/slog lines otherwise, nothing when disabled.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter tracks one loop of known length. It is safe for concurrent use.
type Reporter struct {
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	logger   *slog.Logger
	desc     string
	total    int64
	done     int64
	extra    string
	start    time.Time
	lastLog  time.Time
	interval time.Duration
}

// Options configure a Reporter. The zero value reports to stderr: a bar on a terminal, a log
// line every 10 seconds otherwise.
type Options struct {
	Disabled bool
	Logger   *slog.Logger  // for non-terminal output; slog.Default() when nil
	Interval time.Duration // between log lines; 10s when zero
	Writer   io.Writer     // bar output; os.Stderr when nil
}

// New starts a reporter for total steps described by desc.
func New(desc string, total int64, opt Options) *Reporter {
	r := &Reporter{desc: desc, total: total, start: time.Now(), interval: opt.Interval, logger: opt.Logger}
	r.lastLog = r.start
	if r.interval <= 0 {
		r.interval = 10 * time.Second
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if opt.Disabled {
		r.logger = nil
		return r
	}
	w := opt.Writer
	if w == nil {
		w = os.Stderr
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("it"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return r
}

// Add advances the loop by n steps.
func (r *Reporter) Add(n int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done += int64(n)
	if r.bar != nil {
		_ = r.bar.Add(n)
		return
	}
	if r.logger != nil && time.Since(r.lastLog) >= r.interval {
		r.lastLog = time.Now()
		r.log("progress")
	}
}

// Describe sets a status suffix such as "loss 0.123" shown with the bar or log line.
func (r *Reporter) Describe(format string, args ...any) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.extra = fmt.Sprintf(format, args...)
	if r.bar != nil {
		r.bar.Describe(r.desc + " " + r.extra)
	}
}

// Finish closes the bar and logs a summary line.
func (r *Reporter) Finish() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	if r.logger != nil {
		r.log("done")
	}
}

func (r *Reporter) log(msg string) {
	el := time.Since(r.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(r.done) / el
	}
	args := []any{"task", r.desc, "done", r.done, "total", r.total, "per_s", fmt.Sprintf("%.1f", rate)}
	if r.extra != "" {
		args = append(args, "status", r.extra)
	}
	r.logger.Info(msg, args...)
}
