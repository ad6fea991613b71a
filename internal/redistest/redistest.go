// Package redistest starts Debian's redis-server for a test: on a free
// loopback port, in a temp dir, stopped at the end. Without redis-server
// the test skips, unless MEDMATCH_REQUIRE_REDIS is set (as .ci/run does),
// when it fails.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	Dir  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	tb   testing.TB
}

// Binary returns the path of redis-server, or skips (fails when
// MEDMATCH_REQUIRE_REDIS is set) the test without it.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	if os.Getenv("MEDMATCH_REQUIRE_REDIS") != "" {
		tb.Fatal("redis-server is not installed (apt-get install redis-server) and MEDMATCH_REQUIRE_REDIS is set")
	}
	tb.Skip("redis-server is not installed; the Redis tests need it (apt-get install redis-server)")
	return ""
}

func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a redis-server with extra configuration args (such as
// "--appendonly", "yes") and stops it when the test ends.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	Binary(tb)
	s := &Server{Dir: tb.TempDir(), args: args, tb: tb}
	s.Addr = "127.0.0.1:" + strconv.Itoa(freePort(tb))
	s.start()
	tb.Cleanup(func() { s.Kill() })
	return s
}

func (s *Server) start() {
	s.tb.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--dir", s.Dir, "--save", "", "--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log")}, s.args...)
	s.cmd = exec.Command(Binary(s.tb), args...)
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// A server loading its append-only file answers LOADING: wait.
		if err := c.Ping(context.Background()).Err(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.tb.Fatalf("redis-server on %s did not start: %s", s.Addr, log)
		}
	}
}

// URL is the server's address as REDIS_URL takes it.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Kill stops the server with SIGKILL: nothing is flushed.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// Shutdown stops the server gracefully (SIGTERM: Redis writes its
// append-only file and exits).
func (s *Server) Shutdown() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.tb.Errorf("redis-server did not stop on SIGTERM")
		s.Kill()
	}
	s.cmd = nil
}

// Restart starts the server again on the same port and dir.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.cmd != nil {
		panic(fmt.Sprintf("redistest: restart of a running server %s", s.Addr))
	}
	s.start()
}
