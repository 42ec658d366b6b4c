// Package redistest starts a real redis-server for tests: on a free loopback port, with its
// files in a temporary directory, never as a system service. A test that cannot start one (no
// redis-server on PATH) is skipped with a message saying how to install it; any other failure
// fails the test.
//
// The server can be killed with SIGKILL, stopped with SIGSTOP, and restarted on the same port
// and directory, so that tests can check what a persistence setting keeps.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Persistence is how the server keeps its data on disk.
type Persistence string

const (
	// AOFAlways: append-only file, fsync before every reply (the default here).
	AOFAlways Persistence = "always"
	// AOFEverySec: append-only file, fsync once a second.
	AOFEverySec Persistence = "everysec"
	// RDBOnly: no append-only file, no snapshot schedule (a snapshot only at a clean shutdown).
	RDBOnly Persistence = "rdb"
)

// Options configure a server.
type Options struct {
	Persistence Persistence // default AOFAlways
	// Args are more redis-server arguments ("--maxmemory", "10mb").
	Args []string
}

// Server is a running (or stopped) redis-server.
type Server struct {
	t    testing.TB
	opt  Options
	Port int
	Dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *SyncBuffer
}

// SyncBuffer collects output written by concurrent writers (the server's, a logger's) while a
// test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Start starts a redis-server, or skips the test when redis-server is not installed. It stops the
// server when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (apt-get install -y redis-server): the Redis tests need a real server")
	}
	if opt.Persistence == "" {
		opt.Persistence = AOFAlways
	}
	s := &Server{t: t, opt: opt, Dir: t.TempDir()}
	var err error
	for range 5 { // the free port may be taken between finding it and binding it
		if s.Port, err = freePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Kill)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is the server's redis:// URL with database db.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr(), db) }

func (s *Server) args() []string {
	a := []string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--daemonize", "no", "--protected-mode", "yes", "--save", "", "--logfile", "",
		"--loglevel", "warning", "--databases", "16",
	}
	switch s.opt.Persistence {
	case AOFAlways, AOFEverySec:
		a = append(a, "--appendonly", "yes", "--appendfsync", string(s.opt.Persistence))
	case RDBOnly:
		a = append(a, "--appendonly", "no")
	default:
		s.t.Fatalf("redistest: persistence %q", s.opt.Persistence)
	}
	return append(a, s.opt.Args...)
}

func (s *Server) start() error {
	cmd := exec.Command("redis-server", s.args()...)
	stderr := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.stderr = cmd, done, stderr
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.Addr()); err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server did not answer PING within 10 s: %s", stderr.String())
		}
	}
}

// ping sends PING (and waits for PONG, not LOADING).
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING: %q", strings.TrimSpace(line))
	}
	return nil
}

// Kill ends the server with SIGKILL (no shutdown: what is not on disk is lost) and waits.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies only once continued
	cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same port and directory (after Kill); it loads what
// its persistence kept.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	var err error
	for range 50 { // the kernel may hold the port for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("redistest: restart: %v", err)
}

// Pause stops the process (SIGSTOP): connections are accepted by the kernel but nothing
// answers, as with a hung server. Resume continues it.
func (s *Server) Pause()  { s.signal(syscall.SIGSTOP) }
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}

// Log is what the server printed.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stderr == nil {
		return ""
	}
	return s.stderr.String()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
